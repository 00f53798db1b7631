//! The PP-OCRv4 networks through tract on real specimen photos from ../shared/testdata:
//! detection finds the MRZ lines and recognition reads them well enough for idgate-mrz to
//! recover the printed MRZ exactly. Only long, thin boxes spanning much of the width are
//! recognised: the rest is the visual zone, which this test does not read.

#[path = "../../testdata.rs"]
mod testdata;

use idgate_mrz::{read_ocr, Date, OcrLine, ParseOptions};
use idgate_vision::input::{decode, InputLimits};
use idgate_vision::ocr::Ocr;
use std::path::PathBuf;

fn models() -> PathBuf {
    PathBuf::from(
        std::env::var_os("IDGATE_MODELS_DIR")
            .expect("IDGATE_MODELS_DIR: run through scripts/test, which unpacks the models"),
    )
}

fn mrz_lines(readings: &[String]) -> String {
    // MRZ lines are long runs of [A-Z0-9<]; the visual zone has spaces and lower case.
    readings
        .iter()
        .map(|t| t.replace(' ', ""))
        .filter(|t| t.len() >= 28 && t.matches('<').count() >= 2)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn reads_the_mrz_of_icao_specimen_photos_exactly() {
    let ocr = Ocr::load(&models()).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&testdata::read("fastmrz/manifest.json")).unwrap();
    let opts = ParseOptions {
        today: Date::new(2026, 11, 24).unwrap(),
    };
    let mut results = Vec::new();
    for entry in manifest["images"].as_array().unwrap() {
        let Some(printed) = entry["printed_mrz_lines"].as_array() else {
            continue;
        };
        let printed: Vec<String> = printed
            .iter()
            .map(|l| l.as_str().unwrap().to_string())
            .collect();
        if printed.is_empty() {
            continue;
        }
        let name = entry["image"].as_str().unwrap();
        let page = decode(
            &testdata::read(&format!("fastmrz/{name}")),
            InputLimits::default(),
        )
        .unwrap()
        .image;
        let boxes = ocr.detect(&page).unwrap();
        // MRZ lines are long and thin and span most of the document's width.
        let candidates: Vec<_> = boxes
            .iter()
            .filter(|b| b.w >= 8 * b.h && b.w * 5 >= page.width() * 2)
            .collect();
        let texts: Vec<String> = candidates
            .iter()
            .map(|b| {
                let crop = image::imageops::crop_imm(&page, b.x, b.y, b.w, b.h).to_image();
                ocr.recognize(&crop).unwrap().text
            })
            .collect();

        // The greedy reading carries no per-character confidence: every character is open
        // to repair.
        let lines: Vec<OcrLine> = mrz_lines(&texts).lines().map(OcrLine::unknown).collect();
        let got = read_ocr(&lines, &opts).map(|m| m.lines);
        let ok = got.as_ref().is_ok_and(|lines| lines == &printed);
        results.push((name.to_string(), ok, got));
    }
    // Every specimen in the manifest that has an MRZ: TD1, TD2, TD3, MRV-A, MRV-B and a
    // UK passport photo.
    assert_eq!(results.len(), 6, "{results:?}");
    assert!(results.iter().all(|(_, ok, _)| *ok), "{results:#?}");
}
