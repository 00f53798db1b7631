//! `idgate mrz`, run as the real binary: the JSON Lines contract of issue #3 and the human
//! report with its exit status.

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_idgate");

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn jsonl(inputs: &[Value]) -> Vec<Value> {
    let text: String = inputs.iter().map(|v| format!("{v}\n")).collect();
    let out = run(&["mrz", "--jsonl"], &text);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

// ICAO 9303 part 4 and part 5 specimens.
const TD3: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
const TD1: &str = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<";

#[test]
fn jsonl_reports_every_field_and_check_in_the_documented_shape() {
    let out = jsonl(&[
        json!({"id": "td3", "mrz": TD3}),
        json!({"id": 7, "mrz": TD1}),
    ]);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["id"], "td3");
    assert_eq!(out[0]["format"], "TD3");
    assert_eq!(out[0]["valid"], true);
    assert_eq!(
        out[0]["fields"],
        json!({
            "document_type": "P", "issuing_country": "UTO", "surname": "ERIKSSON",
            "given_names": "ANNA MARIA", "document_number": "L898902C3", "nationality": "UTO",
            "birth_date": "1974-08-12", "sex": "F", "expiry_date": "2012-04-15",
            "optional_data": "ZE184226B",
        })
    );
    let checks = out[0]["checks"].as_object().unwrap();
    for name in [
        "document_number_check",
        "birth_date_check",
        "expiry_date_check",
        "optional_data_check",
        "composite_check",
    ] {
        assert_eq!(checks[name], true, "{name}");
    }
    assert_eq!(out[0]["corrections"], json!([]));
    assert_eq!(out[0]["errors"], json!([]));

    assert_eq!(out[1]["id"], 7);
    assert_eq!(out[1]["format"], "TD1");
    assert_eq!(out[1]["valid"], true);
    assert_eq!(out[1]["fields"]["document_number"], "D23145890");
    assert_eq!(out[1]["fields"]["surname"], "ERIKSSON");
}

/// Per-line confidence arrays for `text`: 0.99 everywhere but `unsure` (line, column).
fn confidence(text: &str, unsure: &[(usize, usize)]) -> Value {
    text.lines()
        .enumerate()
        .map(|(l, line)| {
            (0..line.len())
                .map(|c| if unsure.contains(&(l, c)) { 0.5 } else { 0.99 })
                .collect::<Vec<f64>>()
        })
        .collect()
}

#[test]
fn jsonl_says_what_ocr_repair_corrected() {
    // `<` read as `K` inside the name's trailing filler and O for 0 in the document number,
    // which the reader was unsure of. (A K right after the name is left alone: MARIAK is a
    // possible name.)
    let damaged = TD3
        .replace("MARIA<<<<<<", "MARIA<<<K<<")
        .replace("L898902C3", "L8989O2C3");
    let unsure = confidence(&damaged, &[(1, 5)]);
    let out = jsonl(&[json!({"id": 1, "mrz": damaged, "confidence": unsure})]);
    assert_eq!(out[0]["valid"], true, "{}", out[0]);
    assert_eq!(out[0]["repaired"], true);
    assert_eq!(out[0]["doubtful"], false);
    assert_eq!(out[0]["fields"]["document_number"], "L898902C3");
    assert_eq!(out[0]["fields"]["given_names"], "ANNA MARIA");
    let corrections = out[0]["corrections"].as_array().unwrap();
    assert!(corrections.len() >= 2, "{corrections:?}");
    assert!(corrections
        .iter()
        .any(|c| c["from"] == "O" && c["to"] == "0" && c["line"] == 2));
    // Typed (no confidence), the O is what was typed: the K filler is still repaired by
    // position, the check digit fails and says so.
    let typed = jsonl(&[json!({"id": 2, "mrz": damaged})]);
    assert_eq!(typed[0]["valid"], false);
    assert_eq!(typed[0]["repaired"], true);
    assert_eq!(typed[0]["fields"]["document_number"], "L8989O2C3");
    assert_eq!(typed[0]["checks"]["document_number_check"], false);
}

/// One digit of the document number changed (2 → 5), the check digit left: reading its
/// first 8 as B makes both checks pass again, which the old repair took. Typed or read with confidence, the
/// forgery stays invalid; a malformed confidence is named.
#[test]
fn jsonl_never_repairs_a_forged_number_into_a_valid_one() {
    let forged = TD3.replace("L898902C3", "L898905C3");
    let sure = confidence(&forged, &[]);
    let bad = json!([[0.5], [2.0]]);
    let out = jsonl(&[
        json!({"id": "typed", "mrz": forged}),
        json!({"id": "read", "mrz": forged, "confidence": sure}),
        json!({"id": "bad", "mrz": forged, "confidence": bad}),
    ]);
    for o in &out[..2] {
        assert_eq!(o["valid"], false, "{o}");
        assert_eq!(o["fields"]["document_number"], "L898905C3");
        assert_eq!(o["checks"]["document_number_check"], false);
        assert_eq!(o["repaired"], false);
        assert_eq!(o["doubtful"], false);
    }
    assert!(out[2]["errors"][0].as_str().unwrap().contains("confidence"));
}

#[test]
fn jsonl_keeps_going_past_bad_lines_and_names_the_problem() {
    let text = format!(
        "not json\n{}\n{}\n{}\n",
        json!({"id": "x"}),
        json!({"id": "bad-check", "mrz": TD3.replace("7408122F", "7408123F")}),
        json!({"id": "last", "mrz": TD3}),
    );
    let out = run(&["mrz", "--jsonl"], &text);
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "one output line per input line");
    assert!(lines[0]["errors"][0]
        .as_str()
        .unwrap()
        .contains("invalid JSON"));
    assert_eq!(lines[1]["id"], "x");
    assert!(lines[1]["errors"][0].as_str().unwrap().contains("mrz"));
    assert_eq!(lines[2]["valid"], false);
    assert!(lines[2]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e.as_str().unwrap().contains("birth_date_check")));
    assert_eq!(lines[3]["valid"], true);
}

#[test]
fn the_human_report_exits_non_zero_for_an_invalid_mrz() {
    let ok = run(&["mrz"], TD3);
    assert!(ok.status.success());
    let text = String::from_utf8(ok.stdout).unwrap();
    assert!(text.contains("valid:            yes"), "{text}");
    assert!(text.contains("ERIKSSON"));

    let bad = run(
        &["mrz"],
        &TD3.replace("ZE184226B<<<<<10", "ZE184226B<<<<<19"),
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8(bad.stdout)
        .unwrap()
        .contains("check composite_check"));

    let garbage = run(&["mrz"], "hello world");
    assert_eq!(garbage.status.code(), Some(2));
}
