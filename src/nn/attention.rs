//! `nn.MultiheadAttention`.
