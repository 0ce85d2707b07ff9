//! Window reductions for pooling: max with argmax indices, average, and their backward scatters.
