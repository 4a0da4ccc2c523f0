use std::fmt;

/// A place in the event log's commit-safe order: the appending transaction's id, then the
/// event's global position. Every transaction below the reader's snapshot xmin has ended, so
/// everything before a checkpoint taken under that fence is final.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Checkpoint {
    pub tx_id: i64,
    pub position: i64,
}

impl Checkpoint {
    pub const START: Checkpoint = Checkpoint { tx_id: 0, position: 0 };
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.position, self.tx_id)
    }
}
