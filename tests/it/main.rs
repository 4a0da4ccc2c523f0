//! The integration tests: one binary, one throwaway PostgreSQL cluster shared by every
//! test (each test gets a database of its own), a module per surface or concern.

mod common;

mod analyst;
mod audit;
mod binary;
mod cancellation;
mod commit_order;
mod credentials;
mod errors;
mod event_stream;
mod faults;
mod gradido;
mod gradido_clients;
mod group_commit;
mod holds;
mod hostile_input;
mod inline_projection;
mod invariants;
mod joyplus;
mod lightning;
mod lightning_client;
mod native_api;
mod openapi;
mod operations;
mod pipelined_writes;
mod pooled_connections;
mod query_plans;
mod quick_start;
mod snapshots;
mod transfer_completion;
