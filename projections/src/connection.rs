use std::ops::{Deref, DerefMut};

use deadpool_postgres::{Object, Pool};

use crate::error::ProjectionError;

/// A pooled connection that is closed, never returned to the pool, when dropped: it may
/// hold a session advisory lock or session settings that must not leak to other users.
pub struct DedicatedConnection(Option<Object>);

impl DedicatedConnection {
    /// Takes a connection for a projector. Its commits stay durable (PostgreSQL's default):
    /// a read model that lost its last commits in a crash would serve an older state than
    /// one already shown, and reads must never go backwards (ADR 16).
    pub async fn for_projections(pool: &Pool) -> Result<Self, ProjectionError> {
        Ok(Self(Some(pool.get().await?)))
    }
}

impl Deref for DedicatedConnection {
    type Target = Object;
    fn deref(&self) -> &Object {
        self.0.as_ref().expect("present until dropped")
    }
}

impl DerefMut for DedicatedConnection {
    fn deref_mut(&mut self) -> &mut Object {
        self.0.as_mut().expect("present until dropped")
    }
}

impl Drop for DedicatedConnection {
    fn drop(&mut self) {
        if let Some(object) = self.0.take() {
            drop(Object::take(object));
        }
    }
}
