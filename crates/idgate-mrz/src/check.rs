//! ICAO 9303 part 3 check digits: weights 7-3-1 over character values.

/// Value of one MRZ character: digits 0–9, `A`–`Z` 10–35, filler `<` 0.
/// Anything else has no value.
pub fn char_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        b'<' => Some(0),
        _ => None,
    }
}

/// Check digit (0–9) of `data`, or `None` if it holds a character outside the MRZ set.
pub fn check_digit(data: &[u8]) -> Option<u8> {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0u32;
    for (i, &c) in data.iter().enumerate() {
        sum += char_value(c)? * WEIGHTS[i % 3];
    }
    Some((sum % 10) as u8)
}

/// The check digit as the ASCII digit printed in an MRZ.
pub fn check_digit_char(data: &[u8]) -> Option<u8> {
    check_digit(data).map(|d| b'0' + d)
}

/// Does the printed check character `printed` verify `data`?
/// A `<` check character stands for 0 (ICAO allows it for an empty optional field).
pub(crate) fn verifies(data: &[u8], printed: u8) -> bool {
    verifies_parts(&[data], printed)
}

/// [`verifies`] over the concatenation of `parts` (the composite check), without copying.
pub(crate) fn verifies_parts(parts: &[&[u8]], printed: u8) -> bool {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let printed = match printed {
        b'<' => 0,
        b'0'..=b'9' => u32::from(printed - b'0'),
        _ => return false,
    };
    let (mut sum, mut w) = (0u32, 0usize);
    for &c in parts.iter().flat_map(|p| p.iter()) {
        match char_value(c) {
            Some(v) => sum += v * WEIGHTS[w],
            None => return false,
        }
        w = if w == 2 { 0 } else { w + 1 };
    }
    sum % 10 == printed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icao_examples() {
        // ICAO 9303 part 3, 4.9 worked examples.
        for (data, digit) in [
            (&b"520727"[..], 3u8),
            (b"AB2134<<<", 5),
            (b"L898902C3", 6),
            (b"740812", 2),
            (b"120415", 9),
        ] {
            assert_eq!(
                check_digit(data),
                Some(digit),
                "{}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn rejects_characters_outside_the_mrz_set() {
        assert_eq!(check_digit(b"AB c"), None);
        assert!(!verifies(b"ABC", b'X'));
    }

    #[test]
    fn filler_check_character_means_zero() {
        assert!(verifies(b"<<<<<<<<<<<<<<", b'<'));
        assert!(verifies(b"<<<<<<<<<<<<<<", b'0'));
    }
}
