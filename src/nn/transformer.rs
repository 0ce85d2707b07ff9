//! `nn.TransformerEncoderLayer`, `nn.TransformerEncoder`, `nn.TransformerDecoderLayer`, `nn.TransformerDecoder`, `nn.Transformer`.
