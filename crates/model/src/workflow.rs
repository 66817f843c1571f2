//! The closed loop (闭环): which action moves a case from which state to which.
//!
//! ```text
//! reported ─accept→ accepted ─assign→ assigned ─start→ in_progress ─resolve→ resolved
//!    │                                  ↑  │                                   │
//!    └─reject→ rejected      reopened ─assign/start                 close (return visit)
//!                               ↑                                   satisfied → closed
//!                               └───────────────────────────────── not satisfied
//! any open state ─merge→ closed (a duplicate, linked to the case it was merged into)
//! ```
//!
//! Who may take an action is decided by the role (see `Role::may`); this module only
//! knows the states.

use super::Status;

/// Something done to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Register the report (受理); the deadline starts.
    Accept,
    /// Refuse the report (不予受理).
    Reject,
    /// Give the case to someone (派遣); needs an assignee.
    Assign,
    /// Begin handling (处置).
    Start,
    /// Report it handled (办结).
    Resolve,
    /// The return visit (回访): the reporter's answer closes the case, or reopens it.
    Close,
    /// Close a duplicate into another case (合并).
    Merge,
}

impl Action {
    /// Every action, in workflow order.
    pub const ALL: [Action; 7] = [
        Action::Accept,
        Action::Reject,
        Action::Assign,
        Action::Start,
        Action::Resolve,
        Action::Close,
        Action::Merge,
    ];

    /// The name used in the API and the history.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::Assign => "assign",
            Action::Start => "start",
            Action::Resolve => "resolve",
            Action::Close => "close",
            Action::Merge => "merge",
        }
    }

    /// Parses an action name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The state an action leads to from `from`, or `None` when it is not allowed there.
    /// `satisfied` is the return visit's answer (only `close` looks at it).
    #[must_use]
    pub fn next(self, from: Status, satisfied: bool) -> Option<Status> {
        use Status::{
            Accepted, Assigned, Closed, InProgress, Rejected, Reopened, Reported, Resolved,
        };
        match (self, from) {
            (Action::Accept, Reported) => Some(Accepted),
            (Action::Reject, Reported) => Some(Rejected),
            (Action::Assign, Accepted | Assigned | Reopened) => Some(Assigned),
            (Action::Start, Assigned | Reopened) => Some(InProgress),
            (Action::Resolve, InProgress) => Some(Resolved),
            (Action::Close, Resolved) => Some(if satisfied { Closed } else { Reopened }),
            (Action::Merge, s) if s.is_open() => Some(Closed),
            _ => None,
        }
    }

    /// The actions allowed from a state.
    #[must_use]
    pub fn allowed(from: Status) -> Vec<Action> {
        Action::ALL
            .into_iter()
            .filter(|a| a.next(from, true).is_some())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_open_case_can_be_closed_and_closed_cases_stay_closed() {
        for s in Status::ALL {
            let allowed = Action::allowed(s);
            assert_eq!(
                s.is_open(),
                allowed.contains(&Action::Merge),
                "{s:?}: {allowed:?}"
            );
            if matches!(s, Status::Closed | Status::Rejected) {
                assert!(allowed.is_empty(), "{s:?}: {allowed:?}");
            }
        }
        // The happy path, step by step.
        let mut s = Status::Reported;
        for a in [
            Action::Accept,
            Action::Assign,
            Action::Start,
            Action::Resolve,
            Action::Close,
        ] {
            s = a.next(s, true).unwrap();
        }
        assert_eq!(s, Status::Closed);
        assert_eq!(
            Action::Close.next(Status::Resolved, false),
            Some(Status::Reopened)
        );
        assert_eq!(Action::Accept.next(Status::Accepted, true), None);
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
    }
}
