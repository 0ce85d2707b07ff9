//! Pooling over windows: max (with indices) and average, plain and adaptive, forward and backward.
