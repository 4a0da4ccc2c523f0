//! One function per operation, shared by every dialect that offers it.

pub mod gradido;
pub mod transfers;
pub mod users;
