//! A figure as a view draws it: panels of curves with their scale, colours and emphasis,
//! written as SVG, PNG and the CSV of exactly the numbers drawn. The TUI builds one from the
//! state it draws (`E`), so an export is the view, not a generic plot of the run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

/// How a curve is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Line,
    /// A raw curve under its smoothed one, in a fainter colour.
    Faint,
    /// The curve in focus or pinned: drawn last, thicker.
    Bold,
    /// Single points (the best epoch).
    Points,
    /// A filled band from `points` (lower edge) to this upper edge.
    Band(Vec<(f64, f64)>),
}

/// One curve: its name, points in drawn units (log10 where the panel is log), colour, kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub rgb: (u8, u8, u8),
    pub kind: Kind,
}

/// One chart: its title, its y-axis name and scale (log10 or not), ranges (y in drawn
/// units) and curves, drawn in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Panel {
    pub title: String,
    pub y_label: String,
    pub log: bool,
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub curves: Vec<Curve>,
}

/// A view as drawn: a title, panels, and lines of text under them (a table the view shows
/// beside its charts).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figure {
    pub title: String,
    pub panels: Vec<Panel>,
    pub notes: Vec<String>,
}

impl Panel {
    /// A drawn y back in the metric's units.
    fn value(&self, y: f64) -> f64 {
        if self.log {
            10f64.powf(y)
        } else {
            y
        }
    }
}

impl Figure {
    /// Every number drawn, one row per point: panel, curve, role, epoch, value (in the
    /// metric's units, not log10).
    pub fn csv(&self) -> String {
        let mut out = String::from("panel,curve,role,epoch,value\n");
        let cell = |s: &str| csv_quote(&super::neutralise(s.to_string()));
        for p in &self.panels {
            for c in &p.curves {
                let rows: Vec<(&str, &[(f64, f64)])> = match &c.kind {
                    Kind::Band(upper) => vec![("band low", &c.points), ("band high", upper)],
                    Kind::Faint => vec![("raw", &c.points)],
                    Kind::Points => vec![("point", &c.points)],
                    Kind::Line | Kind::Bold => vec![("line", &c.points)],
                };
                for (role, pts) in rows {
                    for &(x, y) in pts {
                        let _ = writeln!(
                            out,
                            "{},{},{role},{x},{}",
                            cell(&p.title),
                            cell(&c.name),
                            p.value(y)
                        );
                    }
                }
            }
        }
        out
    }

    /// Columns and rows of panels, up to 4 columns.
    fn shape(&self) -> (usize, usize) {
        let n = self.panels.len().max(1);
        let cols = (n as f64).sqrt().ceil().clamp(1.0, 4.0) as usize;
        (cols, n.div_ceil(cols))
    }

    fn size(&self) -> (u32, u32) {
        let (cols, rows) = self.shape();
        let (w, h) = if self.panels.len() == 1 {
            (960, 560)
        } else {
            (420, 300)
        };
        (
            w * cols as u32,
            h * rows as u32 + 60 + 18 * self.notes.len() as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing: {e:?}");
        root.fill(&WHITE).map_err(err)?;
        let (head, rest) = root.split_vertically(60);
        head.titled(&self.title, ("sans-serif", 20).into_font().color(&BLACK))
            .map_err(err)?;
        let notes_h = 18 * self.notes.len() as u32;
        let body_h = rest.dim_in_pixel().1.saturating_sub(notes_h);
        let (body, notes) = rest.split_vertically(body_h);
        for (i, line) in self.notes.iter().enumerate() {
            notes
                .draw_text(
                    line,
                    &("sans-serif", 13).into_font().color(&BLACK),
                    (12, 18 * i as i32),
                )
                .map_err(err)?;
        }
        let (cols, rows) = self.shape();
        let cells = body.split_evenly((rows, cols));
        let legend = self.panels.len() == 1;
        for (p, cell) in self.panels.iter().zip(cells.iter()) {
            let (x0, x1) = if p.x.1 > p.x.0 {
                p.x
            } else {
                (p.x.0, p.x.0 + 1.0)
            };
            let (y0, y1) = if p.y.1 > p.y.0 {
                p.y
            } else {
                (p.y.0, p.y.0 + 1e-3)
            };
            let mut chart = ChartBuilder::on(cell)
                .margin(10)
                .caption(&p.title, ("sans-serif", 15))
                .x_label_area_size(30)
                .y_label_area_size(54)
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(err)?;
            let log = p.log;
            let y_fmt = move |y: &f64| {
                let v = if log { 10f64.powf(*y) } else { *y };
                format!("{v:.3}")
            };
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc(if log {
                    format!("{} (log)", p.y_label)
                } else {
                    p.y_label.clone()
                })
                .y_label_formatter(&y_fmt)
                .label_style(("sans-serif", 12))
                .axis_desc_style(("sans-serif", 12))
                .light_line_style(RGBColor(245, 245, 245))
                .draw()
                .map_err(err)?;
            for c in &p.curves {
                let (r, g, b) = c.rgb;
                let color = RGBColor(r, g, b);
                let drawn = match &c.kind {
                    Kind::Band(upper) => {
                        let mut poly: Vec<(f64, f64)> = c.points.clone();
                        poly.extend(upper.iter().rev());
                        chart
                            .draw_series(std::iter::once(Polygon::new(poly, color.mix(0.25))))
                            .map_err(err)?
                    }
                    Kind::Points => chart
                        .draw_series(c.points.iter().map(|&p| Circle::new(p, 5, color.filled())))
                        .map_err(err)?,
                    Kind::Faint => chart
                        .draw_series(LineSeries::new(
                            c.points.iter().copied(),
                            color.mix(0.35).stroke_width(1),
                        ))
                        .map_err(err)?,
                    Kind::Line => chart
                        .draw_series(LineSeries::new(
                            c.points.iter().copied(),
                            color.stroke_width(2),
                        ))
                        .map_err(err)?,
                    Kind::Bold => chart
                        .draw_series(LineSeries::new(
                            c.points.iter().copied(),
                            color.stroke_width(4),
                        ))
                        .map_err(err)?,
                };
                if legend && !c.name.is_empty() && c.kind != Kind::Faint {
                    drawn.label(c.name.clone()).legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 16, y)], color.stroke_width(3))
                    });
                }
            }
            if legend {
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .label_font(("sans-serif", 12))
                    .draw()
                    .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
        Ok(())
    }

    /// The figure as an SVG document.
    pub fn svg(&self) -> Result<String> {
        super::plot::register_font();
        let mut svg = String::new();
        self.draw(SVGBackend::with_string(&mut svg, self.size()).into_drawing_area())?;
        Ok(svg)
    }

    /// The figure as PNG bytes.
    pub fn png(&self) -> Result<Vec<u8>> {
        super::plot::register_font();
        super::plot::png_bytes(self.size(), |area| self.draw(area))
    }

    /// Writes `<stem>.svg`, `<stem>.png` and `<stem>.csv` into `dir` (each atomically);
    /// returns their paths.
    pub fn write(&self, dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
        let svg = dir.join(format!("{stem}.svg"));
        let png = dir.join(format!("{stem}.png"));
        let csv = dir.join(format!("{stem}.csv"));
        super::write_atomic(&svg, self.svg()?.as_bytes())?;
        let bytes = self
            .png()
            .with_context(|| format!("{}: cannot draw", png.display()))?;
        super::write_atomic(&png, &bytes)?;
        super::write_atomic(&csv, self.csv().as_bytes())?;
        Ok(vec![svg, png, csv])
    }
}

fn csv_quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(log: bool) -> Figure {
        Figure {
            title: "t".into(),
            panels: vec![Panel {
                title: "a, b".into(),
                y_label: "loss".into(),
                log,
                x: (1.0, 3.0),
                y: (0.0, 1.0),
                curves: vec![
                    Curve {
                        name: "=x".into(),
                        points: vec![(1.0, 0.5), (2.0, -1.0)],
                        rgb: (1, 2, 3),
                        kind: Kind::Line,
                    },
                    Curve {
                        name: "band".into(),
                        points: vec![(1.0, 0.1)],
                        rgb: (1, 2, 3),
                        kind: Kind::Band(vec![(1.0, 0.9)]),
                    },
                ],
            }],
            notes: vec!["anova".into()],
        }
    }

    #[test]
    fn the_csv_holds_every_point_drawn_in_the_metrics_units() {
        let csv = figure(false).csv();
        assert_eq!(
            csv,
            "panel,curve,role,epoch,value\n\"a, b\",'=x,line,1,0.5\n\"a, b\",'=x,line,2,-1\n\
             \"a, b\",band,band low,1,0.1\n\"a, b\",band,band high,1,0.9\n"
        );
        // Log panels draw log10: the CSV gives the value back.
        assert!(figure(true).csv().contains("line,2,0.1\n"));
    }

    #[test]
    fn the_svg_draws_every_curve_and_the_notes() {
        let svg = figure(false).svg().expect("draws");
        assert!(svg.contains("anova"));
        assert!(svg.contains("=x"), "the legend names the curve");
        assert!(
            svg.contains("<polygon") || svg.contains("<path"),
            "{svg:.300}"
        );
    }
}
