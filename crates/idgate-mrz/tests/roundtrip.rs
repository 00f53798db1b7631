//! Property tests: generate → render → parse gives the fields back; OCR-style damage
//! that the layout and check digits can undo is undone by `read`.

use idgate_mrz::{
    parse, read, read_ocr, render, Date, Format, Mrz, MrzError, OcrLine, ParseOptions, Specimen,
};
use proptest::prelude::*;

fn opts() -> ParseOptions {
    ParseOptions {
        today: Date::new(2026, 11, 24).unwrap(),
    }
}

/// Reads `lines` as OCR output whose reader was unsure of the characters at `unsure`
/// (line, column) and sure of the rest.
fn ocr(lines: &[&str], unsure: &[(usize, usize)]) -> Mrz {
    let lines: Vec<OcrLine> = lines
        .iter()
        .enumerate()
        .map(|(l, text)| OcrLine {
            text: text.to_string(),
            confidence: (0..text.len())
                .map(|c| if unsure.contains(&(l, c)) { 0.55 } else { 0.99 })
                .collect(),
        })
        .collect();
    read_ocr(&lines, &opts()).unwrap()
}

/// Names of two letters or more: a lone `K` after `<<` reads as fillers (repair.rs).
fn word(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Z]{{2,{max}}}")).unwrap()
}

fn yymmdd(years: std::ops::Range<i32>) -> impl Strategy<Value = (String, Date)> {
    (years, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| {
        (
            format!("{:02}{:02}{:02}", y % 100, m, d),
            Date::new(y, m, d).unwrap(),
        )
    })
}

prop_compose! {
    fn specimen()(
        format in prop_oneof![Just(Format::Td1), Just(Format::Td2), Just(Format::Td3)],
        surname in word(10), given in word(8), middle in proptest::option::of(word(6)),
        doc in "[A-Z0-9]{6,9}",
        country in prop::sample::select(vec!["DEU", "CHN", "FRA", "D", "GBR", "UTO", "XXA"]),
        birth in yymmdd(1930..2008), expiry in yymmdd(2027..2040),
        sex in prop::sample::select(vec!['M', 'F', 'X', '<']),
        optional in "[A-Z0-9]{0,7}",
    ) -> (Format, Specimen, Date, Date) {
        let code = if format == Format::Td3 { "P" } else { "ID" };
        let given_names = match middle { Some(m) => format!("{given} {m}"), None => given };
        (format, Specimen {
            document_code: code.into(), issuing_country: country.into(), surname,
            given_names, document_number: doc, nationality: country.into(),
            birth_date: birth.0, sex, expiry_date: expiry.0, optional_data: optional,
        }, birth.1, expiry.1)
    }
}

/// The documented limit of `read`'s K rule: a last given name made only of Ks
/// (`SMITH<<KK<<<`) cannot be told from fillers read as K, and reads as fillers.
fn k_rule_limit(s: &Specimen) -> bool {
    let last_word = s.given_names.split(' ').next_back().unwrap_or("");
    last_word.bytes().all(|c| c == b'K')
}

proptest! {
    #[test]
    fn rendered_mrz_parses_back((format, s, birth, expiry) in specimen()) {
        let lines = render(format, &s).unwrap();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mrz = parse(&refs, &opts()).unwrap();
        prop_assert_eq!(mrz.format, format);
        prop_assert!(mrz.valid(), "{:?} {:?}", lines, mrz.failed_checks().collect::<Vec<_>>());
        prop_assert_eq!(&mrz.fields.surname, &s.surname);
        prop_assert_eq!(&mrz.fields.given_names, &s.given_names);
        prop_assert_eq!(&mrz.fields.document_number, &s.document_number);
        prop_assert_eq!(&mrz.fields.issuing_country, &s.issuing_country);
        prop_assert_eq!(mrz.fields.birth_date, Some(birth));
        prop_assert_eq!(mrz.fields.expiry_date, Some(expiry));
        prop_assert_eq!(mrz.fields.sex.as_str().chars().next(), Some(s.sex));
        prop_assert_eq!(&mrz.fields.optional_data, &s.optional_data);
    }

    #[test]
    fn read_undoes_ocr_confusions_in_digit_fields(
        (format, s, _, _) in specimen(),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
    ) {
        prop_assume!(!k_rule_limit(&s));
        let lines = render(format, &s).unwrap();
        // Dates are all digits: swap some digits for their look-alike letters.
        let (line, start) = match format { Format::Td1 => (1, 0), _ => (1, 13) };
        let mut noisy: Vec<Vec<u8>> = lines.iter().map(|l| l.as_bytes().to_vec()).collect();
        for p in picks {
            let col = start + p.index(6);
            noisy[line][col] = match noisy[line][col] {
                b'0' => b'O', b'1' => b'I', b'2' => b'Z', b'5' => b'S', b'8' => b'B', b'6' => b'G',
                c => c,
            };
        }
        let text: Vec<String> = noisy.into_iter().map(|l| String::from_utf8(l).unwrap()).collect();
        let mrz = read(&text.join("\n"), &opts()).unwrap();
        prop_assert_eq!(&mrz.lines, &lines);
    }

    #[test]
    fn read_restores_fillers_read_as_k_and_dropped((format, s, _, _) in specimen()) {
        let lines = render(format, &s).unwrap();
        let name_line = if format == Format::Td1 { 2 } else { 0 };
        let l = &lines[name_line];
        // The last filler of the name field read as K, another one dropped, lower case.
        prop_assume!(l.ends_with("<<<<"));
        prop_assume!(!k_rule_limit(&s));
        let mut damaged = l[..l.len() - 2].to_string();
        damaged.push('K');
        let mut text = lines.clone();
        text[name_line] = damaged.to_lowercase();
        let mrz = read(&text.join("\n"), &opts()).unwrap();
        prop_assert_eq!(&mrz.lines, &lines);
        prop_assert!(mrz.corrections.iter().any(|c| c.reason == "filler read as K"));
    }
}

#[test]
fn k_inside_a_name_is_kept() {
    let lines = [
        "P<UTOKOK<<MARK<K<<<<<<<<<<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ];
    let mrz = read(&lines.join("\n"), &opts()).unwrap();
    assert_eq!(mrz.fields.surname, "KOK");
    assert_eq!(mrz.fields.given_names, "MARK K");
    assert!(mrz.corrections.is_empty());
}

#[test]
fn a_check_digit_chooses_between_o_and_zero_in_a_document_number() {
    // L898902C3 with its 0 read as O: only one reading verifies.
    let lines = [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L8989O2C36UTO7408122F1204159ZE184226B<<<<<10",
    ];
    let mrz = ocr(&lines, &[(1, 5)]);
    assert_eq!(mrz.fields.document_number, "L898902C3");
    assert!(mrz.valid());
    assert!(mrz.repaired() && !mrz.doubtful);
    assert_eq!(mrz.corrections.len(), 1);
    assert_eq!(mrz.corrections[0].reason, "check digit chose the reading");
    // Read with confidence, or typed, the O is what the document says: no swap, and the
    // failing check is the document's.
    for mrz in [ocr(&lines, &[]), read(&lines.join("\n"), &opts()).unwrap()] {
        assert_eq!(mrz.fields.document_number, "L8989O2C3");
        assert_eq!(mrz.check("document_number_check"), Some(false));
        assert!(!mrz.repaired() && !mrz.doubtful);
    }
    // Without any confidence (a reader that reports none) every character is open.
    let unknown: Vec<OcrLine> = lines.iter().map(|l| OcrLine::unknown(*l)).collect();
    assert!(read_ocr(&unknown, &opts()).unwrap().valid());
}

/// A forger changes one digit of the document number and leaves its check digit: where
/// the changed digit has a look-alike letter whose value makes the check pass (2 → Z is
/// 2 → 35, 1 → I is 1 → 18), the old repair "chose" that letter and the forged number came
/// out valid. Read with confidence, or typed, every such forgery stays invalid.
#[test]
fn a_forged_document_number_is_never_repaired_into_a_valid_one() {
    let genuine = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let names = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
    let mut forgeries = 0;
    let mut repaired_before = 0;
    for col in 0..9 {
        for d in b'0'..=b'9' {
            let mut line = genuine.as_bytes().to_vec();
            if line[col] == d || !line[col].is_ascii_digit() {
                continue;
            }
            line[col] = d;
            let line = String::from_utf8(line).unwrap();
            let lines = [names, line.as_str()];
            forgeries += 1;
            let unknown: Vec<OcrLine> = lines.iter().map(|l| OcrLine::unknown(*l)).collect();
            if read_ocr(&unknown, &opts()).unwrap().valid() {
                repaired_before += 1;
            }
            for mrz in [ocr(&lines, &[]), read(&lines.join("\n"), &opts()).unwrap()] {
                assert!(!mrz.valid(), "{line} read as valid");
                assert_eq!(mrz.check("document_number_check"), Some(false));
                assert!(!mrz.doubtful);
            }
            // Unsure of a character elsewhere in the line, the failure may be a
            // misreading.
            assert!(ocr(&lines, &[(1, col)]).doubtful || ocr(&lines, &[(1, col)]).valid());
        }
    }
    assert!(forgeries > 40);
    // The unguarded repair does turn some of them valid: the case this test is about.
    assert!(
        repaired_before > 0,
        "no forgery was repairable: the test proves nothing"
    );
}

/// Read off a generated TD1 photo: the document number's `0` and its check digit `0` both
/// read as `O`. The check position lies in TD1's mixed span, so only the check (and the
/// composite) can say which reading is right.
#[test]
fn a_td1_check_digit_read_as_a_letter_is_chosen_by_the_checks() {
    let lines = [
        "IRCHNDUXJYOCF2O<<<<<<<<<<<<<<<",
        "7502097F3009059CHN<<<<<<<<<<<2",
        "FERNANDES<<XIAOMING<<<<<<<<<<<",
    ];
    let mrz = ocr(&lines, &[(0, 10), (0, 14)]);
    assert!(mrz.valid(), "{:?}", mrz.corrections);
    assert_eq!(mrz.fields.document_number, "DUXJY0CF2");
    assert_eq!(mrz.lines[0], "IRCHNDUXJY0CF20<<<<<<<<<<<<<<<");
}

#[test]
fn an_unrepairable_reading_is_reported_not_guessed() {
    // Two digits of the document number swapped: no single look-alike fixes it.
    let lines = [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898920C36UTO7408122F1204159ZE184226B<<<<<10",
    ];
    let mrz = read(&lines.join("\n"), &opts()).unwrap();
    assert_eq!(
        mrz.check("document_number_check"),
        Some(false),
        "{:?}",
        mrz.corrections
    );
    assert!(!mrz.valid());
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for raw in ["", "hello", "P<UTO\n\n", &"<".repeat(200)] {
        assert!(read(raw, &opts()).is_err(), "{raw:?}");
    }
}

/// Found by `scripts/fuzz` (mrz_read): `parse` indexed a second line by the first line's
/// length, so a full first line and a short second one panicked.
#[test]
fn regression_parse_with_lines_of_unequal_length_is_an_error_not_a_panic() {
    let opts = ParseOptions {
        today: Date::new(2026, 11, 24).unwrap(),
    };
    let full = "6".repeat(44);
    for second in ["", "P<", &"6".repeat(43), &"6".repeat(45)] {
        assert!(matches!(
            parse(&[&full, second], &opts),
            Err(MrzError::UnknownLayout { .. })
        ));
    }
    let td1 = "I<UTOD231458907<<<<<<<<<<<<<<<";
    assert!(parse(&[td1, td1, "ERIKSSON"], &opts).is_err());
}

proptest! {
    /// Arbitrary text, as exact lines or as OCR output, gives a result or an error.
    #[test]
    fn arbitrary_input_never_panics(
        raw in prop::collection::vec(
            (prop::sample::select(vec![0usize, 2, 29, 30, 31, 35, 36, 37, 43, 44, 45]),
             "[A-Z0-9<]{45}"),
            0..4,
        )
    ) {
        // Lines of MRZ-like lengths, mixed, so layouts are guessed and then do not fit.
        let text = raw
            .iter()
            .map(|(len, line)| &line[..*len])
            .collect::<Vec<_>>()
            .join("\n");
        let opts = ParseOptions { today: Date::new(2026, 11, 24).unwrap() };
        let lines: Vec<&str> = text.lines().collect();
        let _ = parse(&lines, &opts);
        let _ = read(&text, &opts);
    }
}

/// Found by the property tests at 2000 cases: a TD2 document issued by France (`IDFRA`,
/// 2x36) was read as the old French ID card, whose repair happened to make its check
/// digits pass while turning the TD2 dates into letters.
#[test]
fn regression_french_td2_is_read_as_td2_not_as_the_old_french_card() {
    let lines = [
        "IDFRAQNQOKV<<FLSN<RPMPXJ<<<<<<<<<<<<",
        "1COFLM<<<7FRA4607131<3010208B<<<<<<5",
    ];
    let parsed = parse(&lines, &opts()).unwrap();
    assert_eq!((parsed.format, parsed.valid()), (Format::Td2, true));
    let r = read(&lines.join("\n"), &opts()).unwrap();
    assert_eq!(r.format, Format::Td2);
    assert!(r.valid());
    assert_eq!(r.lines, lines);
    assert!(r.corrections.is_empty(), "{:?}", r.corrections);
}

/// A parsed MRZ is personal data: its `Debug` (what a log line or a panic would show) holds
/// none of the names, numbers or dates, only the document's type, issuer and the checks.
#[test]
fn debug_output_of_a_reading_shows_no_personal_data() {
    let lines = [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898905C36UTO7408122F1204159ZE184226B<<<<<10",
    ];
    let mrz = read(&lines.join("\n"), &opts()).unwrap();
    let shown = format!("{mrz:?}");
    for secret in ["ERIKSSON", "ANNA", "L8989", "740812", "1974", "ZE184226"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("document_number_check"), "{shown}");
    assert!(format!("{:?}", mrz.fields).contains("UTO"));
}
