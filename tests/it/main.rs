//! devdb's integration tests: the real binary against a real Docker engine and a real
//! Postgres. One test binary, one module per area.

mod adopt;
mod autogen;
mod autogen_order;
mod autogen_security;
mod autogen_snapshot;
mod autogen_types;
mod backup;
mod by_url;
mod by_url_attack;
mod by_url_dump;
mod clone;
mod common;
mod corpus;
mod drift;
mod engine;
mod ephemeral;
mod example;
mod exposure;
mod failure_kinds;
mod faults;
mod lean;
mod migrate;
mod not_compared;
mod remote;
mod reset;
mod restore;
mod revisions;
mod schemas;
mod scratch;
mod services;
mod squash;
mod testing;
mod tls;
mod tunnel;
