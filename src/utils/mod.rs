//! `torch.utils`: data loading ([`data`]).

pub mod data;
