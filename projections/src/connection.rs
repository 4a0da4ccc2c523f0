use std::ops::{Deref, DerefMut};

use deadpool_postgres::{Object, Pool};

use crate::error::ProjectionError;

/// A pooled connection that is closed, never returned to the pool, when dropped: it may
/// hold a session advisory lock or session settings that must not leak to other users.
pub struct DedicatedConnection(Option<Object>);

impl DedicatedConnection {
    /// Takes a connection and makes its commits asynchronous: only projections use it, and
    /// their tables and checkpoint commit together and can always be rebuilt from the
    /// durable event log, so a lost tail after a crash is simply projected again.
    pub async fn for_projections(pool: &Pool) -> Result<Self, ProjectionError> {
        let connection = Self(Some(pool.get().await?));
        connection.batch_execute("SET synchronous_commit = off").await?;
        Ok(connection)
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
