//! `torch.utils.data`: datasets, samplers, collation and the `DataLoader`, with PyTorch's
//! batch order for the same seed; and tabular files (CSV, plain or gzipped) into tensors.

mod csv;
pub use csv::{CsvData, CsvOptions, Delimiter, MAX_LINE_BYTES};
