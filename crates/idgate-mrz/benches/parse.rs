//! Parses per second per core for TD1 and TD3, plus OCR repair of a damaged TD3.
//!
//! The corpus is generated deterministically (fixed seed) and rendered with
//! `idgate_mrz::render`, so every record is valid. When `IDGATE_MRZ_CORPUS_DIR` is set the
//! corpus is also written there (`td1.txt`, `td3.txt`, records separated by a blank line),
//! so `scripts/bench-mrz` can time the Python `mrz` package on exactly the same records in
//! the same run.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use idgate_mrz::{parse, read_ocr, render, Date, Format, OcrLine, ParseOptions, Specimen};

const RECORDS: usize = 1000;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn word(&mut self, min: u64, max: u64) -> String {
        let len = min + self.below(max - min + 1);
        (0..len)
            .map(|_| char::from(b'A' + self.below(26) as u8))
            .collect()
    }
    fn alnum(&mut self, len: usize) -> String {
        const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        (0..len)
            .map(|_| char::from(A[self.below(36) as usize]))
            .collect()
    }
    fn yymmdd(&mut self, from_year: u64, years: u64) -> String {
        let y = (from_year + self.below(years)) % 100;
        let m = 1 + self.below(12);
        let d = 1 + self.below(28);
        format!("{y:02}{m:02}{d:02}")
    }
}

const COUNTRIES: &[&str] = &[
    "D", "FRA", "CHN", "USA", "GBR", "NLD", "ESP", "ITA", "BRA", "IND", "JPN", "KOR", "SWE", "POL",
    "UKR", "TUR", "CAN", "AUS", "MEX", "ARG",
];

fn corpus(format: Format, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed);
    (0..RECORDS)
        .map(|_| {
            let country = rng.pick(COUNTRIES);
            let given = if rng.below(3) == 0 {
                format!("{} {}", rng.word(3, 8), rng.word(3, 8))
            } else {
                rng.word(3, 9)
            };
            let s = Specimen {
                document_code: if format == Format::Td3 { "P" } else { "ID" }.into(),
                issuing_country: country.into(),
                surname: rng.word(3, 12),
                given_names: given,
                document_number: rng.alnum(9),
                nationality: country.into(),
                birth_date: rng.yymmdd(50, 50),
                sex: ['M', 'F', '<'][rng.below(3) as usize],
                expiry_date: rng.yymmdd(27, 10),
                optional_data: if rng.below(2) == 0 {
                    rng.alnum(8)
                } else {
                    String::new()
                },
            };
            render(format, &s).expect("TD1/TD3 render").join("\n")
        })
        .collect()
}

fn write_corpus(name: &str, records: &[String]) {
    if let Ok(dir) = std::env::var("IDGATE_MRZ_CORPUS_DIR") {
        std::fs::create_dir_all(&dir).expect("corpus dir");
        let path = std::path::Path::new(&dir).join(format!("{name}.txt"));
        std::fs::write(path, records.join("\n\n") + "\n").expect("write corpus");
    }
}

/// What an OCR engine typically does to a TD3: `<` read as `K` in the filler and an O/0 swap
/// in the document number (the repair must find both), given as a reader that reports no
/// confidence would.
fn damage(record: &str) -> Vec<OcrLine> {
    let mut lines: Vec<String> = record.lines().map(str::to_string).collect();
    lines[0] = lines[0].replacen("<<<", "<K<", 1);
    lines[1] = lines[1].replacen('0', "O", 1);
    lines.into_iter().map(OcrLine::unknown).collect()
}

fn bench(c: &mut Criterion) {
    let opts = ParseOptions {
        today: Date::new(2026, 11, 24).expect("date"),
    };
    let mut group = c.benchmark_group("mrz");
    for (name, format, seed) in [("td1", Format::Td1, 1), ("td3", Format::Td3, 3)] {
        let records = corpus(format, seed);
        write_corpus(name, &records);
        let split: Vec<Vec<&str>> = records.iter().map(|r| r.lines().collect()).collect();
        assert!(split
            .iter()
            .all(|lines| parse(lines, &opts).is_ok_and(|m| m.valid())));
        group.throughput(Throughput::Elements(RECORDS as u64));
        group.bench_function(format!("parse_{name}"), |b| {
            b.iter(|| {
                let mut valid = 0usize;
                for lines in &split {
                    valid += usize::from(parse(black_box(lines), &opts).is_ok_and(|m| m.valid()));
                }
                valid
            })
        });
    }
    let damaged: Vec<Vec<OcrLine>> = corpus(Format::Td3, 3).iter().map(|r| damage(r)).collect();
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("read_damaged_td3", |b| {
        b.iter_batched(
            || damaged.clone(),
            |records| {
                records
                    .iter()
                    .filter(|r| read_ocr(black_box(r), &opts).is_ok_and(|m| m.valid()))
                    .count()
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
