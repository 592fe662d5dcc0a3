//! Random identifiers: request ids shaped like the cloud's, and fresh credential material.

use uuid::Uuid;

/// An upper-case UUID, the shape of the cloud's `RequestId`.
pub fn request_id() -> String {
    Uuid::new_v4().hyphenated().to_string().to_ascii_uppercase()
}

/// `len` random characters of upper-case hex, from the operating system's generator
/// (through UUID v4: 122 random bits per UUID).
pub fn random_hex(len: usize) -> String {
    let mut out = String::with_capacity(len + 32);
    while out.len() < len {
        out.push_str(&Uuid::new_v4().simple().to_string().to_ascii_uppercase());
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_expected_shape() {
        let id = request_id();
        assert_eq!((id.len(), id.matches('-').count()), (36, 4));
        assert_eq!(id, id.to_ascii_uppercase());
        let hex = random_hex(70);
        assert!(hex.len() == 70 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(random_hex(32), random_hex(32));
    }
}
