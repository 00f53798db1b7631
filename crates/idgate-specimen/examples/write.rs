fn main() {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    std::fs::create_dir_all(&out).unwrap();
    let fonts = idgate_specimen::Fonts::system().unwrap();
    let opts = idgate_specimen::Options::default();
    for &d in idgate_specimen::Defect::ALL {
        for seed in 0..2 {
            let s = idgate_specimen::generate(&fonts, d, seed, &opts);
            std::fs::write(out.join(s.file_name(seed)), &s.bytes).unwrap();
        }
    }
}
