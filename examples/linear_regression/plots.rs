//! The tutorial's pictures, drawn with plotters as it draws them with matplotlib: the points and
//! the fitted line with the learned equation as a label, the same redrawn every 10 epochs as an
//! animation, and the loss curve.
//!
//! Training that diverges gives huge, infinite and NaN predictions and losses. As matplotlib does,
//! the axes then span the finite values only and a line breaks where its points are not finite;
//! a note says what was left out. (plotters itself loops forever on an infinite axis range.)

use plotters::coord::Shift;
use plotters::data::float::FloatPrettyPrinter;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;
use std::path::Path;

/// The text font, shipped with the example so that no system font is needed.
const FONT: &[u8] = include_bytes!("assets/DejaVuSans.ttf");

/// Registers the shipped font as plotters' "sans-serif".
pub fn register_font() -> Result<(), String> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "the bundled font could not be loaded".to_string())
}

/// One state of the fit: the data (x in the original units, before the tutorial's `* 0.1`), the
/// predictions at the data's x, the label.
pub struct Frame<'a> {
    /// The data's x, in the original units.
    pub x: &'a [f32],
    /// The data's y.
    pub y: &'a [f32],
    /// The model's predictions at `x`.
    pub y_p: &'a [f32],
    /// The learned equation, as the tutorial writes it on the plot.
    pub label: String,
    /// The epoch this state is from.
    pub epoch: usize,
}

/// The largest magnitude an axis end may have: far beyond any f32, and small enough that the
/// width of an axis, and plotters' arithmetic on it, stays finite.
const AXIS_LIMIT: f64 = 1e300;

/// The smallest and the largest finite value, or `None` when no value is finite.
pub fn finite_min_max(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A linear axis for `values`: matplotlib's default margins (5% of the data range on each side)
/// around the finite values only, `default` when none is finite. A single value gets a range of
/// 10% of its magnitude (at least 0.1) around it. The result is always finite and non-empty.
pub fn linear_axis(values: impl IntoIterator<Item = f64>, default: Range<f64>) -> Range<f64> {
    let Some((lo, hi)) = finite_min_max(values) else {
        return default;
    };
    let clamp = |v: f64| v.clamp(-AXIS_LIMIT, AXIS_LIMIT);
    let (lo, hi) = (clamp(lo), clamp(hi));
    let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
    (lo - 0.05 * span)..(hi + 0.05 * span)
}

/// A logarithmic axis for `values`: from 0.8 times the smallest positive finite value to 1.25
/// times the largest, `default` when none is positive and finite (a log scale cannot show zero,
/// negative, infinite or NaN values). The result is always positive, finite and non-empty.
pub fn log_axis(values: impl IntoIterator<Item = f64>, default: Range<f64>) -> Range<f64> {
    match finite_min_max(values.into_iter().filter(|&v| v > 0.0)) {
        None => default,
        Some((lo, hi)) => {
            let clamp = |v: f64| v.clamp(1.0 / AXIS_LIMIT, AXIS_LIMIT);
            (clamp(lo) * 0.8)..(clamp(hi) * 1.25)
        }
    }
}

/// The runs of consecutive points that `drawable` accepts: a line through `points` drawn as
/// these pieces breaks at the others, as matplotlib breaks a line at NaN.
pub fn drawable_runs<P: Copy>(
    points: impl IntoIterator<Item = P>,
    drawable: impl Fn(&P) -> bool,
) -> Vec<Vec<P>> {
    let mut runs: Vec<Vec<P>> = Vec::new();
    let mut open = false;
    for p in points {
        if !drawable(&p) {
            open = false;
        } else if open {
            runs.last_mut().expect("an open run").push(p);
        } else {
            runs.push(vec![p]);
            open = true;
        }
    }
    runs
}

/// A tick label: plotters' usual decimals for ordinary magnitudes, scientific notation (`7.56e32`)
/// for the huge and tiny values of a diverging run, which would not fit beside the axis.
pub fn tick_label(v: f64) -> String {
    if v == 0.0 || (1e-3..1e6).contains(&v.abs()) {
        return FloatPrettyPrinter {
            allow_scientific: false,
            min_decimal: 1,
            max_decimal: 5,
        }
        .print(v);
    }
    let s = format!("{v:.2e}");
    let (mantissa, exp) = s.split_once('e').expect("{:e} writes an exponent");
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    format!("{mantissa}e{exp}")
}

/// Writes `note` at the top of `area`, under the caption.
fn draw_note<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, note: &str) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let (w, _) = area.dim_in_pixel();
    let style = ("sans-serif", 14)
        .into_font()
        .color(&RGBColor(200, 30, 30))
        .pos(Pos::new(HPos::Center, VPos::Top));
    area.draw(&Text::new(note.to_string(), (w as i32 / 2, 40), style))
        .map_err(|e| e.to_string())
}

fn draw_fit<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, f: &Frame<'_>) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&WHITE).map_err(err)?;
    let wide = |v: &[f32]| v.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
    let (x, y, y_p) = (wide(f.x), wide(f.y), wide(f.y_p));
    let xr = linear_axis(x.iter().copied(), 0.0..1.0);
    let yr = linear_axis(y.iter().chain(&y_p).copied(), 0.0..1.0);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("Linear regression, epoch {}", f.epoch),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(xr.clone(), yr.clone())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("x")
        .y_desc("y")
        .light_line_style(WHITE)
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| tick_label(*v))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(err)?;
    // The fitted line, drawn through the predictions sorted by x (as plt.plot(x, y_p)), broken
    // where a point is not finite.
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let mut line: Vec<(f64, f64)> = x.iter().copied().zip(y_p.iter().copied()).collect();
    line.sort_by(|a, b| a.0.total_cmp(&b.0));
    let skipped = line.iter().filter(|p| !finite(p)).count();
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(255, 127, 14);
    chart
        .draw_series(
            drawable_runs(line, finite)
                .into_iter()
                .map(|run| PathElement::new(run, blue.stroke_width(2))),
        )
        .map_err(err)?
        .label(f.label.clone())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    chart
        .draw_series(
            x.iter()
                .copied()
                .zip(y.iter().copied())
                .filter(finite)
                .map(|p| Circle::new(p, 4, orange.filled())),
        )
        .map_err(err)?
        .label("data")
        .legend(move |(x, y)| Circle::new((x + 10, y), 4, orange.filled()));
    // The tutorial writes the equation at (xmax * 0.2, ymax * 0.9) in data coordinates.
    let (tx, ty) = (xr.end * 0.2, yr.end * 0.9);
    if xr.contains(&tx) && yr.contains(&ty) {
        chart
            .draw_series(std::iter::once(Text::new(
                f.label.clone(),
                (tx, ty),
                ("sans-serif", 18),
            )))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    if skipped > 0 {
        draw_note(
            area,
            &format!(
                "{skipped} of {} predictions are nan or inf: not drawn",
                x.len()
            ),
        )?;
    }
    Ok(())
}

/// `fit.png`: the data and the final fitted line, labelled with its equation.
pub fn fit_png(path: &Path, frame: &Frame<'_>) -> Result<(), String> {
    let root = BitMapBackend::new(path, (800, 600)).into_drawing_area();
    draw_fit(&root, frame)?;
    root.present().map_err(|e| e.to_string())
}

/// `training.gif`: the fit redrawn every 10 epochs, as the tutorial's live plot.
pub fn training_gif(path: &Path, frames: &[Frame<'_>], frame_delay_ms: u32) -> Result<(), String> {
    let root = BitMapBackend::gif(path, (640, 480), frame_delay_ms)
        .map_err(|e| e.to_string())?
        .into_drawing_area();
    for f in frames {
        draw_fit(&root, f)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// What the loss picture says about the losses it cannot show on its log scale, if any.
pub fn loss_note(losses: &[f32]) -> Option<String> {
    let hidden = losses
        .iter()
        .filter(|l| !(l.is_finite() && **l > 0.0))
        .count();
    let first = losses.iter().position(|l| !l.is_finite());
    match (hidden, first) {
        (0, _) => None,
        (h, _) if h == losses.len() => Some("no finite, positive loss to draw".to_string()),
        (h, Some(e)) => Some(format!(
            "{h} of {} epochs not drawn: loss nan or inf (first at epoch {})",
            losses.len(),
            e + 1
        )),
        (h, None) => Some(format!(
            "{h} of {} epochs not drawn (a log scale cannot show a zero loss)",
            losses.len()
        )),
    }
}

/// `loss.png`: the loss of every epoch, on a logarithmic scale; the epochs whose loss is not
/// finite (or is zero) are left out, with a note saying so.
pub fn loss_png(path: &Path, losses: &[f32]) -> Result<(), String> {
    let root = BitMapBackend::new(path, (800, 600)).into_drawing_area();
    let err = |e: DrawingAreaErrorKind<_>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let yr = log_axis(losses.iter().map(|&l| f64::from(l)), 0.1..10.0);
    let mut chart = ChartBuilder::on(&root)
        .caption("Training loss (MSE)", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(1usize..losses.len().max(2), yr.log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss (log scale)")
        .light_line_style(WHITE)
        .y_label_formatter(&|v| tick_label(*v))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(err)?;
    let points = losses
        .iter()
        .enumerate()
        .map(|(i, &l)| (i + 1, f64::from(l)));
    let blue = RGBColor(31, 119, 180);
    chart
        .draw_series(
            drawable_runs(points, |p| p.1.is_finite() && p.1 > 0.0)
                .into_iter()
                .map(|run| PathElement::new(run, blue.stroke_width(2))),
        )
        .map_err(err)?;
    if let Some(note) = loss_note(losses) {
        draw_note(&root, &note)?;
    }
    root.present().map_err(|e| e.to_string())
}
