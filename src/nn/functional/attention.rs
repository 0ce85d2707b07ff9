//! Attention: `F.scaled_dot_product_attention` and `F.multi_head_attention_forward`.
