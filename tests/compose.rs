//! The layers compose into the models PyTorch users train: a small CNN (Conv2d, BatchNorm2d,
//! ReLU, MaxPool2d, Linear), a transformer-encoder text classifier and an LSTM sequence model.
//! Each trains for a few steps with the loss going down, and has PyTorch's `state_dict` keys
//! (taken from the fixtures where they hold the architecture) and repr.

use flambeau::nn::functional::{self as F, Padding};
use flambeau::nn::{
    BatchNorm2d, Conv2d, ConvOptions, CrossEntropyLoss, Embedding, Flatten, Forward, LSTM, Linear,
    MSELoss, MaxPool2d, Module, RNNOptions, ReLU, TransformerEncoder, TransformerEncoderLayer,
    TransformerLayerOptions,
};
use flambeau::optim::{AdamW, Optimizer, SGD, SgdOptions};
use flambeau::{DType, Generator, Tensor, manual_seed, sequential};
use serde_json::Value as Json;

fn fixture(name: &str) -> Json {
    let dir = std::env::var("FLAMBEAU_TORCH_FIXTURES").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch").to_string()
    });
    let text = std::fs::read_to_string(format!("{dir}/{name}")).expect("fixture");
    serde_json::from_str(&text).expect("json")
}

fn strings(j: &Json) -> Vec<String> {
    j.as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect()
}

/// The keys PyTorch's `init.json` lists for the module built by `expr`.
fn init_keys(expr: &str) -> Vec<String> {
    let fx = fixture("init.json");
    let case = fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["module"] == expr)
        .unwrap_or_else(|| panic!("init.json has no {expr}"));
    strings(&case["keys"])
}

/// Runs `steps` optimizer steps of `loss()` and returns the losses.
fn train(steps: usize, opt: &mut dyn Optimizer, loss: impl Fn() -> Tensor) -> Vec<f32> {
    (0..steps)
        .map(|_| {
            let l = loss();
            opt.zero_grad();
            l.backward();
            opt.step();
            l.item::<f32>()
        })
        .collect()
}

fn assert_decreases(what: &str, losses: &[f32]) {
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(
        losses.iter().all(|l| l.is_finite()) && last < 0.5 * first,
        "{what}: the loss did not go down enough: {losses:?}"
    );
}

#[test]
fn small_cnn_trains_and_matches_pytorchs_keys_and_repr() {
    manual_seed(0);
    let cnn = sequential![
        Conv2d::with_options(
            1,
            4,
            3,
            ConvOptions {
                padding: Padding::Explicit(vec![1]),
                ..Default::default()
            }
        ),
        BatchNorm2d::new(4),
        ReLU::new(),
        MaxPool2d::new(2),
        Flatten::new(),
        Linear::new(64, 5),
    ];
    // interop.json describes this very model, as PyTorch prints and saves it.
    let fx = fixture("interop/interop.json");
    let want = &fx["models"]["cnn"];
    assert_eq!(cnn.state_dict().keys(), strings(&want["keys"]));
    assert_eq!(format!("{cnn}"), want["repr"].as_str().unwrap());

    let g = Generator::new().manual_seed(1);
    let x = Tensor::randn_gen([16, 1, 8, 8], DType::F32, &g);
    let y = Tensor::randint_gen(0, 5, [16], DType::I64, &g);
    let ce = CrossEntropyLoss::new();
    let mut opt = SGD::with_options(
        cnn.parameters(),
        SgdOptions {
            momentum: 0.9,
            ..SgdOptions::new(0.05)
        },
    );
    let losses = train(30, &mut opt, || ce.forward(&cnn.forward(&x), &y));
    assert_decreases("cnn", &losses);
    // Training moved the BatchNorm statistics and counted the batches.
    let sd = cnn.state_dict();
    assert_eq!(sd.get("1.num_batches_tracked").unwrap().item::<i64>(), 30);
    assert!(!sd.get("1.running_mean").unwrap().eq(0.0).all_true());
    // Eval mode uses them: a single image gives the same logits as in the batch.
    cnn.eval();
    let all = cnn.forward(&x);
    let one = cnn.forward(&x.narrow(0, 3, 1));
    assert!(one.allclose(&all.narrow(0, 3, 1), 1e-5, 1e-5));
}

#[derive(Module)]
struct TextClassifier {
    embed: Embedding,
    encoder: TransformerEncoder,
    head: Linear,
}

impl TextClassifier {
    fn new() -> TextClassifier {
        let layer = TransformerEncoderLayer::with_options(
            16,
            2,
            TransformerLayerOptions {
                dim_feedforward: 32,
                dropout: 0.0,
                batch_first: true,
                ..Default::default()
            },
        );
        TextClassifier {
            embed: Embedding::new(20, 16),
            encoder: TransformerEncoder::new(layer, 2, None),
            head: Linear::new(16, 3),
        }
    }

    fn forward(&self, tokens: &Tensor) -> Tensor {
        let h = self.encoder.forward(&self.embed.forward(tokens));
        self.head.forward(&h.mean_dim(1, false))
    }
}

#[test]
fn transformer_encoder_classifier_trains_and_matches_pytorchs_keys_and_repr() {
    manual_seed(0);
    let m = TextClassifier::new();
    let mut want = vec!["embed.weight".to_string()];
    for i in 0..2 {
        for k in init_keys("nn.TransformerEncoderLayer(8, 2, 16)") {
            want.push(format!("encoder.layers.{i}.{k}"));
        }
    }
    want.extend(["head.weight".to_string(), "head.bias".to_string()]);
    assert_eq!(m.state_dict().keys(), want);
    // PyTorch's text, from `print(model)` of the same architecture (ModuleList folds the two
    // identical layers into one entry).
    assert_eq!(
        format!("{m}"),
        "TextClassifier(\n  (embed): Embedding(20, 16)\n  (encoder): TransformerEncoder(\n    (layers): ModuleList(\n      (0-1): 2 x TransformerEncoderLayer(\n        (self_attn): MultiheadAttention(\n          (out_proj): NonDynamicallyQuantizableLinear(in_features=16, out_features=16, bias=True)\n        )\n        (linear1): Linear(in_features=16, out_features=32, bias=True)\n        (dropout): Dropout(p=0.0, inplace=False)\n        (linear2): Linear(in_features=32, out_features=16, bias=True)\n        (norm1): LayerNorm((16,), eps=1e-05, elementwise_affine=True, bias=True)\n        (norm2): LayerNorm((16,), eps=1e-05, elementwise_affine=True, bias=True)\n        (dropout1): Dropout(p=0.0, inplace=False)\n        (dropout2): Dropout(p=0.0, inplace=False)\n      )\n    )\n  )\n  (head): Linear(in_features=16, out_features=3, bias=True)\n)"
    );

    // A learnable task: the class is the range (0-6, 7-13, 14-19) of the first token.
    let g = Generator::new().manual_seed(2);
    let tokens = Tensor::randint_gen(0, 20, [24, 6], DType::I64, &g);
    let first = tokens.select(1, 0);
    let labels = first.ge(7).to_dtype(DType::I64) + first.ge(14).to_dtype(DType::I64);
    let ce = CrossEntropyLoss::new();
    let mut opt = AdamW::new(m.parameters(), 1e-2);
    let losses = train(40, &mut opt, || ce.forward(&m.forward(&tokens), &labels));
    assert_decreases("transformer", &losses);
}

#[derive(Module)]
struct SeqModel {
    lstm: LSTM,
    head: Linear,
}

#[test]
fn lstm_sequence_model_trains_and_matches_pytorchs_keys_and_repr() {
    manual_seed(0);
    let m = SeqModel {
        lstm: LSTM::with_options(3, 8, RNNOptions::default().num_layers(2).batch_first(true)),
        head: Linear::new(8, 1),
    };
    let layer0 = init_keys("nn.LSTM(3, 4)");
    let mut want: Vec<String> = layer0.iter().map(|k| format!("lstm.{k}")).collect();
    want.extend(
        layer0
            .iter()
            .map(|k| format!("lstm.{}", k.replace("l0", "l1"))),
    );
    want.extend(["head.weight".to_string(), "head.bias".to_string()]);
    assert_eq!(m.state_dict().keys(), want);
    assert_eq!(
        format!("{m}"),
        "SeqModel(\n  (lstm): LSTM(3, 8, num_layers=2, batch_first=True)\n  (head): Linear(in_features=8, out_features=1, bias=True)\n)"
    );

    // Predict the running mean of the first feature at the last step.
    let g = Generator::new().manual_seed(3);
    let x = Tensor::randn_gen([16, 7, 3], DType::F32, &g);
    let target = x.select(2, 0).mean_dim(1, true);
    let mse = MSELoss::new();
    let mut opt = AdamW::new(m.parameters(), 2e-2);
    let losses = train(60, &mut opt, || {
        let (out, _) = m.lstm.forward(&x, None);
        let last = out.select(1, 6);
        mse.forward(&m.head.forward(&last), &target)
    });
    assert_decreases("lstm", &losses);
    let _ = F::relu(&x);
}
