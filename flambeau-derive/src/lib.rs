//! Derive macros for Flambeau.
//!
//! `#[derive(Module)]` arrives with `torch.nn` support; this crate is the home it will live in.
