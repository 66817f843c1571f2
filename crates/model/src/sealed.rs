//! Personal data at rest: ID numbers and phones are sealed with authenticated encryption
//! (XChaCha20-Poly1305, a random 192-bit nonce per value) under a key kept outside the
//! database, and looked up by a keyed hash (HMAC-SHA-256) stored beside them, so that an
//! exact-match search needs no decryption and a dump of the database alone reveals nothing.
//!
//! Both keys are derived from one 32-byte master key (the key file or `MINQING_KEY`). A
//! sealed value is `[1, key id (4 bytes), nonce (24 bytes), ciphertext and tag]`; the field
//! it belongs to is bound to it as associated data, so a sealed phone cannot be passed off
//! as an ID number. The key id says which key sealed it, so a rotation can tell old from
//! new values.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The version byte of sealed values.
const VERSION: u8 = 1;

/// Which personal field a value is (bound to the ciphertext and the hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A resident's ID number.
    IdNumber,
    /// A phone number (a resident's, or an organisation's contact's).
    Phone,
}

impl Field {
    fn tag(self) -> &'static [u8] {
        match self {
            Field::IdNumber => b"id_number",
            Field::Phone => b"phone",
        }
    }
}

/// The keys that seal and hash personal data.
#[derive(Clone)]
pub struct Keys {
    aead: XChaCha20Poly1305,
    mac: [u8; 32],
    id: [u8; 4],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({})", self.key_id())
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // An HMAC key may have any length, so this cannot fail.
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for p in parts {
        m.update(p);
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        m.update(&[0]);
    }
    m.finalize().into_bytes().into()
}

impl Keys {
    /// The keys derived from a 32-byte master key.
    #[must_use]
    pub fn new(master: &[u8; 32]) -> Keys {
        let enc = hmac(master, &[b"minqing seal v1"]);
        let mac = hmac(master, &[b"minqing lookup v1"]);
        let id = hmac(master, &[b"minqing key id v1"]);
        Keys {
            aead: XChaCha20Poly1305::new(&enc.into()),
            mac,
            id: [id[0], id[1], id[2], id[3]],
        }
    }

    /// A short public name of the key (8 hex digits), kept in the database so that
    /// starting with the wrong key is refused rather than sealing with two keys.
    #[must_use]
    pub fn key_id(&self) -> String {
        crate::hex(&self.id)
    }

    /// Seals `value` of `field`.
    #[must_use]
    pub fn seal(&self, field: Field, value: &str) -> Vec<u8> {
        let mut nonce = [0u8; 24];
        rand::fill(&mut nonce);
        let ct = self
            .aead
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: value.as_bytes(),
                    aad: field.tag(),
                },
            )
            // Encryption fails only for messages of gigabytes.
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + 4 + 24 + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens a sealed value of `field`; `None` if it was sealed by another key, for another
    /// field, or altered.
    #[must_use]
    pub fn open(&self, field: Field, sealed: &[u8]) -> Option<String> {
        if sealed.len() < 1 + 4 + 24 + 16 || sealed[0] != VERSION || sealed[1..5] != self.id {
            return None;
        }
        let nonce: [u8; 24] = sealed[5..29].try_into().ok()?;
        let plain = self
            .aead
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &sealed[29..],
                    aad: field.tag(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }

    /// The lookup hash of a (normalised) value of `field`: equal values hash equal under
    /// one key, and nothing about the value can be learnt from it without the key.
    #[must_use]
    pub fn lookup(&self, field: Field, value: &str) -> Vec<u8> {
        hmac(&self.mac, &[field.tag(), value.as_bytes()]).to_vec()
    }
}

/// Parses a master key: 64 hexadecimal digits (surrounding white space ignored).
pub fn parse_key(text: &str) -> Result<[u8; 32], String> {
    let t = text.trim();
    if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("a key is 64 hexadecimal digits (32 bytes)".into());
    }
    let mut key = [0u8; 32];
    for (i, k) in key.iter_mut().enumerate() {
        *k = u8::from_str_radix(&t[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(key)
}

/// A new random master key, as 64 hexadecimal digits.
#[must_use]
pub fn new_key() -> String {
    let mut key = [0u8; 32];
    rand::fill(&mut key);
    crate::hex(&key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_field() {
        let k = Keys::new(&[7; 32]);
        let s = k.seal(Field::Phone, "13800138000");
        assert!(!s.windows(11).any(|w| w == b"13800138000"));
        assert_eq!(k.open(Field::Phone, &s).as_deref(), Some("13800138000"));
        assert_eq!(k.open(Field::IdNumber, &s), None, "bound to its field");
        assert_eq!(Keys::new(&[8; 32]).open(Field::Phone, &s), None);
        let mut bent = s.clone();
        *bent.last_mut().unwrap() ^= 1;
        assert_eq!(k.open(Field::Phone, &bent), None, "authenticated");
        assert_ne!(
            s,
            k.seal(Field::Phone, "13800138000"),
            "a fresh nonce each time"
        );
    }

    #[test]
    fn lookups_are_keyed_and_equal_for_equal_values() {
        let k = Keys::new(&[7; 32]);
        assert_eq!(
            k.lookup(Field::Phone, "13800138000"),
            k.lookup(Field::Phone, "13800138000")
        );
        assert_ne!(
            k.lookup(Field::Phone, "13800138000"),
            k.lookup(Field::IdNumber, "13800138000")
        );
        assert_ne!(
            k.lookup(Field::Phone, "13800138000"),
            Keys::new(&[8; 32]).lookup(Field::Phone, "13800138000")
        );
    }

    #[test]
    fn keys_parse_from_hex() {
        let hex = new_key();
        assert_eq!(crate::hex(&parse_key(&hex).unwrap()), hex);
        assert!(parse_key("abc").is_err());
        assert!(parse_key(&"g".repeat(64)).is_err());
    }
}
