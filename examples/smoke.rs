use flambeau::*;
fn main() {
    manual_seed(0);
    let x = randint(-5, 30, [11]).to_dtype(DType::F32);
    let y = 0.5 * &x + 30.0 + randn([11]);
    println!("{x}\n{y}");
    let x = (&x * 0.1).unsqueeze(1);
    println!("{x}");
    let w = Tensor::randn([1, 1]).requires_grad_(true);
    println!("{w}");
    let a = tensor!([[1.0, 2.0], [3.0, 4.0]]).requires_grad_(true);
    let b = (&a * &a).sum();
    println!("{b}");
    b.backward();
    println!("{}", a.grad().unwrap());
    println!("{}", Tensor::arange(0, 2000, 1));
    println!("{}", Tensor::randn([4, 300]));
    println!("{}", Tensor::randn_dtype([2, 3], DType::F64));
    println!("{}", tensor!([1e-5, 1.0, 1e5]));
    println!("{}", tensor!([true, false]));
}
