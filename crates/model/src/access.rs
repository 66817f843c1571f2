//! Roles, the holders of tokens, and token secrets (what the database keeps of them).
//!
//! Which events a role sees and which actions it may take is described in the service's
//! `auth` module; here are the pure parts the store and the index share.

use sha2::{Digest, Sha256};

use crate::Action;

/// A role of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything, everywhere.
    Admin,
    /// A command centre: every case of its area subtree, reporter contacts included.
    Command,
    /// Redraws grids; reads cases in scope, acts on none.
    Planner,
    /// A grid worker: the cases of its grids or community.
    Field,
    /// A resident: submits reports and follows their own.
    Reporter,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Command,
        Role::Planner,
        Role::Field,
        Role::Reporter,
    ];

    /// The name used on the command line and in the database.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Command => "command",
            Role::Planner => "planner",
            Role::Field => "field",
            Role::Reporter => "reporter",
        }
    }

    /// Parses a role name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role may take `action` on a case it can see.
    #[must_use]
    pub fn may(self, action: Action) -> bool {
        match self {
            Role::Admin | Role::Command => true,
            Role::Field => matches!(
                action,
                Action::Accept | Action::Reject | Action::Assign | Action::Start | Action::Resolve
            ),
            Role::Reporter => action == Action::Close,
            Role::Planner => false,
        }
    }

    /// Whether the role reads single events by place (lists, nearby, tiles, stream, exports).
    #[must_use]
    pub fn reads_events(self) -> bool {
        !matches!(self, Role::Reporter)
    }

    /// Whether the role sees reporters' contacts (of the cases in its scope).
    #[must_use]
    pub fn sees_contacts(self) -> bool {
        matches!(self, Role::Admin | Role::Command)
    }
}

/// The holder of a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Token row id (a reporter's reports carry it).
    pub token_id: i64,
    /// Who it was given to.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// Area code of their scope; `None` = everywhere (admin, or a role given no area).
    pub area_code: Option<String>,
    /// Sensitive care tags granted to the token (admin tokens see them all).
    pub grants: crate::register::Tags,
    /// The grid worker the token belongs to, if any: a field token of a worker is scoped
    /// to the grids the worker holds now (`worker_grids`), not to `area_code`.
    pub worker_id: Option<i64>,
    /// Codes of the grids the worker holds now (empty without a worker).
    pub worker_grids: Vec<String>,
}

/// A new token's secret: `mq_` and 64 hex digits from the operating system's generator.
#[must_use]
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    format!("mq_{}", hex(&bytes))
}

/// What the database keeps of a secret.
#[must_use]
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Lowercase hexadecimal digits of bytes.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    // By table: every request with a token hashes it, and formatting byte by byte with
    // `write!` cost more than the SHA-256 itself.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hashes_are_sha256_in_lowercase_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = new_secret();
        let b = new_secret();
        assert_ne!(a, b);
        assert!(a.starts_with("mq_") && a.len() == 67, "{a}");
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn roles_and_actions() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert!(Role::Field.may(Action::Resolve));
        assert!(!Role::Field.may(Action::Merge));
        assert!(!Role::Planner.may(Action::Accept));
        assert!(Role::Reporter.may(Action::Close));
        assert!(!Role::Reporter.reads_events());
    }
}
