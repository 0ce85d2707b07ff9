//! `torch.utils.data`: datasets, samplers, collation and the `DataLoader`, with PyTorch's
//! batch order for the same seed; and tabular files (CSV, plain or gzipped) into tensors.
