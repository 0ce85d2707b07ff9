//! Convolutions as GEMMs over im2col columns: forward, both backward passes, transposed convolution, unfold and fold.
