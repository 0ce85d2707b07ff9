//! `training.png`: the training loss (on a log scale when it spans more than a decade) and the evaluation metric per epoch, side by
//! side, drawn with plotters and the tutorial's bundled font. Non-finite values are left out of
//! the axes and break the lines (the tutorial's helpers), so a diverging run still draws.

use super::lr_plots::{drawable_runs, linear_axis, log_axis, register_font, tick_label};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_desc: &str,
    values: &[f64],
    log: bool,
    color: RGBColor,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let x_range = 1usize..values.len().max(2);
    let points = values.iter().enumerate().map(|(i, &v)| (i + 1, v));
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64);
    if log {
        let yr = log_axis(values.iter().copied(), 0.1..10.0);
        let mut chart = builder
            .build_cartesian_2d(x_range, yr.log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(y_desc)
            .light_line_style(WHITE)
            .y_label_formatter(&|v| tick_label(*v))
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                drawable_runs(points, |p| p.1.is_finite() && p.1 > 0.0)
                    .into_iter()
                    .map(|run| PathElement::new(run, color.stroke_width(2))),
            )
            .map_err(err)?;
    } else {
        let yr = linear_axis(values.iter().copied(), 0.0..1.0);
        let mut chart = builder.build_cartesian_2d(x_range, yr).map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(y_desc)
            .light_line_style(WHITE)
            .y_label_formatter(&|v| tick_label(*v))
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                drawable_runs(points, |p| p.1.is_finite())
                    .into_iter()
                    .map(|run| PathElement::new(run, color.stroke_width(2))),
            )
            .map_err(err)?;
    }
    Ok(())
}

/// Draws `<dir>/training.png` and returns its path: the loss of each epoch on the left, the
/// metric (`metric_name`) on the right, under `title`.
pub fn training_png(
    dir: &Path,
    title: &str,
    loss_name: &str,
    losses: &[f64],
    metric_name: &str,
    metrics: &[f64],
) -> Result<std::path::PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    register_font()?;
    let path = dir.join("training.png");
    draw(&path, title, loss_name, losses, metric_name, metrics)?;
    Ok(path)
}

fn draw(
    path: &Path,
    title: &str,
    loss_name: &str,
    losses: &[f64],
    metric_name: &str,
    metrics: &[f64],
) -> Result<(), String> {
    let root = BitMapBackend::new(path, (1200, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let root = root
        .titled(title, ("sans-serif", 24))
        .map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(600);
    // A log scale once the loss spans more than a decade (a narrower range would show no tick).
    let log = super::lr_plots::finite_min_max(losses.iter().copied().filter(|&l| l > 0.0))
        .is_some_and(|(lo, hi)| hi > 10.0 * lo);
    let y_desc = if log { "loss (log scale)" } else { "loss" };
    panel(
        &left,
        &format!("training loss ({loss_name})"),
        y_desc,
        losses,
        log,
        BLUE,
    )?;
    panel(&right, metric_name, metric_name, metrics, false, ORANGE)?;
    root.present()
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
