//! What a reviewer signs in to the console with, apart from HTTP: passwords (argon2id,
//! short and guessable ones refused), TOTP codes (RFC 6238: SHA-1, six digits, 30-second
//! steps, one step of drift either way) and single-use recovery codes.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, TOTP};

/// Passwords shorter than this are refused whatever their strength.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longer input is refused before hashing (argon2 hashes any length; this bounds the work
/// a request can ask for).
pub const MAX_PASSWORD_BYTES: usize = 256;
/// How many recovery codes an enrolment hands out.
pub const RECOVERY_CODES: usize = 10;
const STEP_SECS: u64 = 30;
const DIGITS: usize = 6;

/// Why a password is refused, as a stable code and a sentence for the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeakPassword {
    pub code: &'static str,
    pub message: String,
}

/// Refuses a password that is short, too long, or easy to guess: zxcvbn's estimate
/// (common passwords, words, names, keyboard walks, dates, repeats) must be at least 3 of 4,
/// with the account's own name counted as known to an attacker.
pub fn check_password(password: &str, account: &str) -> Result<(), WeakPassword> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(WeakPassword {
            code: "password_too_short",
            message: format!("use at least {MIN_PASSWORD_CHARS} characters"),
        });
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(WeakPassword {
            code: "password_too_long",
            message: format!("use at most {MAX_PASSWORD_BYTES} bytes"),
        });
    }
    let estimate = zxcvbn::zxcvbn(password, &[account]);
    if (estimate.score() as u8) < 3 {
        return Err(WeakPassword {
            code: "password_too_common",
            message: "this password is common or easy to guess; choose a longer phrase of \
                      unrelated words"
                .into(),
        });
    }
    Ok(())
}

/// The argon2id PHC string of a password (RustCrypto's defaults: 19 MiB, 2 passes, 1 lane,
/// a random salt).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

/// Whether `password` matches the stored hash. `None` (no such account) still spends the
/// time of one verification, so an unknown name answers as slowly as a wrong password.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("idgate dummy password for timing"));
    let (phc, real) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && real
}

/// A new TOTP secret: 20 random bytes (160 bits, RFC 4226's recommendation).
pub fn new_totp_secret() -> Vec<u8> {
    let mut s = vec![0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut s);
    s
}

/// The secret in base32 without padding, as authenticator apps take it typed in.
pub fn totp_base32(secret: &[u8]) -> String {
    base32_encode(secret)
}

/// The `otpauth://` URI an authenticator app scans: `issuer:account` label, both parts
/// percent-encoded.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        percent(issuer),
        percent(account),
        base32_encode(secret),
        percent(issuer),
    )
}

/// The code at a time with the parameters of the console (SHA-1, 6 digits, 30 s).
pub fn totp_at(secret: &[u8], unix_secs: u64) -> String {
    totp_code("SHA1", DIGITS, secret, unix_secs).expect("SHA1 is an RFC 6238 algorithm")
}

/// The RFC 6238 code with any of its parameters (`SHA1`, `SHA256`, `SHA512`; 6 to 8
/// digits; 30-second steps from t0 = 0); `None` for another algorithm.
pub fn totp_code(algorithm: &str, digits: usize, secret: &[u8], unix_secs: u64) -> Option<String> {
    let algorithm = match algorithm {
        "SHA1" => Algorithm::SHA1,
        "SHA256" => Algorithm::SHA256,
        "SHA512" => Algorithm::SHA512,
        _ => return None,
    };
    Some(TOTP::new_unchecked(algorithm, digits, 0, STEP_SECS, secret.to_vec()).generate(unix_secs))
}

/// The time step `code` belongs to, if it is the code of the current step or of the one
/// before or after (clock drift). Every candidate is compared in constant time.
pub fn totp_step(secret: &[u8], code: &str, unix_secs: u64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = (unix_secs / STEP_SECS) as i64;
    let mut found = None;
    for step in [now - 1, now, now + 1] {
        if step < 0 {
            continue;
        }
        let want = totp_at(secret, step as u64 * STEP_SECS);
        if constant_eq(want.as_bytes(), code.as_bytes()) {
            found = Some(step);
        }
    }
    found
}

/// Ten fresh recovery codes, `xxxx-xxxx-xxxx` in lowercase base32 (60 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut b = [0u8; 8];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
            let s = base32_encode(&b).to_ascii_lowercase();
            format!("{}-{}-{}", &s[0..4], &s[4..8], &s[8..12])
        })
        .collect()
}

/// The stored form of a recovery code: SHA-256 of the code without separators or case.
pub fn hash_recovery_code(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex::encode(Sha256::digest(norm.as_bytes()))
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn base32_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in data {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_common_and_name_based_passwords_are_refused() {
        assert_eq!(
            check_password("Tr0ub4dor&3", "wei").unwrap_err().code,
            "password_too_short"
        );
        for weak in [
            "password1234",
            "qwertyuiop123",
            "123456789012",
            "iloveyou2024!",
        ] {
            assert_eq!(
                check_password(weak, "wei").unwrap_err().code,
                "password_too_common",
                "{weak}"
            );
        }
        // The account's own name does not make a password strong.
        assert!(check_password("zhangweizhangwei", "zhangwei").is_err());
        assert!(check_password(&"x".repeat(300), "wei").is_err());
        check_password("correct horse battery staple", "wei").unwrap();
        check_password("violet-anchor-97-brisk-lantern", "wei").unwrap();
    }

    #[test]
    fn a_password_verifies_against_its_hash_only() {
        let h = hash_password("violet-anchor-97-brisk-lantern");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("violet-anchor-97-brisk-lantern", Some(&h)));
        assert!(!verify_password("violet-anchor-97-brisk-lanterN", Some(&h)));
        assert!(!verify_password("violet-anchor-97-brisk-lantern", None));
        assert!(!verify_password("anything", Some("not a phc string")));
        // Two hashes of one password differ (salted).
        assert_ne!(h, hash_password("violet-anchor-97-brisk-lantern"));
    }

    #[test]
    fn base32_and_the_provisioning_uri() {
        // RFC 4648 section 10 test vectors, without padding.
        for (plain, enc) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), enc);
        }
        let uri = otpauth_uri(b"12345678901234567890", "idgate", "li wei@example");
        assert_eq!(
            uri,
            "otpauth://totp/idgate:li%20wei%40example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=idgate&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn codes_are_accepted_one_step_either_side_and_no_further() {
        let secret = b"12345678901234567890";
        let t = 1_111_111_109u64;
        let step = (t / 30) as i64;
        for (dt, want) in [
            (0i64, Some(step)),
            (-30, Some(step - 1)),
            (30, Some(step + 1)),
        ] {
            let code = totp_at(secret, (t as i64 + dt) as u64);
            assert_eq!(totp_step(secret, &code, t), want);
        }
        assert_eq!(totp_step(secret, &totp_at(secret, t + 60), t), None);
        assert_eq!(totp_step(secret, &totp_at(secret, t - 60), t), None);
        assert_eq!(totp_step(secret, "12345", t), None);
        assert_eq!(totp_step(secret, "abcdef", t), None);
        let spaced = totp_at(secret, t);
        let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
        assert_eq!(totp_step(secret, &spaced, t), Some(step));
    }

    #[test]
    fn recovery_codes_are_fresh_and_stored_as_digests() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut uniq = codes.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), RECOVERY_CODES);
        assert_eq!(codes[0].len(), 14);
        assert_eq!(
            hash_recovery_code(&codes[0]),
            hash_recovery_code(&codes[0].to_uppercase().replace('-', " "))
        );
        assert_ne!(hash_recovery_code(&codes[0]), hash_recovery_code(&codes[1]));
    }
}
