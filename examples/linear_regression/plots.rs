//! The tutorial's pictures, drawn with plotters as it draws them with matplotlib: the points and
//! the fitted line with the learned equation as a label, the same redrawn every 10 epochs as an
//! animation, and the loss curve.

use plotters::coord::Shift;
use plotters::prelude::*;
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
    pub x: &'a [f32],
    pub y: &'a [f32],
    pub y_p: &'a [f32],
    pub label: String,
    pub epoch: usize,
}

/// matplotlib's default margins: 5% of the data range on each side.
fn padded(lo: f32, hi: f32) -> std::ops::Range<f32> {
    let span = if hi > lo { hi - lo } else { 1.0 };
    (lo - 0.05 * span)..(hi + 0.05 * span)
}

fn min_max(values: impl Iterator<Item = f32>) -> (f32, f32) {
    values.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

fn draw_fit<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, f: &Frame<'_>) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&WHITE).map_err(err)?;
    let (x_lo, x_hi) = min_max(f.x.iter().copied());
    let (y_lo, y_hi) = min_max(f.y.iter().chain(f.y_p).copied());
    let (xr, yr) = (padded(x_lo, x_hi), padded(y_lo, y_hi));
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("Linear regression, epoch {}", f.epoch),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(xr.clone(), yr.clone())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("x")
        .y_desc("y")
        .light_line_style(WHITE)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(err)?;
    // The fitted line, drawn through the predictions sorted by x (as plt.plot(x, y_p)).
    let mut line: Vec<(f32, f32)> = f.x.iter().copied().zip(f.y_p.iter().copied()).collect();
    line.sort_by(|a, b| a.0.total_cmp(&b.0));
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(255, 127, 14);
    chart
        .draw_series(LineSeries::new(line, blue.stroke_width(2)))
        .map_err(err)?
        .label(f.label.clone())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    chart
        .draw_series(
            f.x.iter()
                .zip(f.y)
                .map(|(&x, &y)| Circle::new((x, y), 4, orange.filled())),
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

/// `loss.png`: the loss of every epoch, on a logarithmic scale.
pub fn loss_png(path: &Path, losses: &[f32]) -> Result<(), String> {
    let root = BitMapBackend::new(path, (800, 600)).into_drawing_area();
    let err = |e: DrawingAreaErrorKind<_>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let (lo, hi) = min_max(losses.iter().copied());
    let (lo, hi) = (lo.max(f32::MIN_POSITIVE) * 0.8, hi * 1.25);
    let mut chart = ChartBuilder::on(&root)
        .caption("Training loss (MSE)", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(1usize..losses.len().max(2), (lo..hi).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss (log scale)")
        .light_line_style(WHITE)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            losses.iter().enumerate().map(|(i, &l)| (i + 1, l)),
            RGBColor(31, 119, 180).stroke_width(2),
        ))
        .map_err(err)?;
    root.present().map_err(|e| e.to_string())
}
