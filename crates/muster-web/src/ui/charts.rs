//! Inline SVG charts drawn from real data.
//!
//! Each function returns one `<svg class="chart">` element, ready to be inserted into a page
//! unescaped: every piece of text it carries (labels, names, the summary) is escaped here. The
//! element has `role="img"` and an `aria-label` that reads the data out in words, so a screen
//! reader hears what a sighted reader sees; each bar and point also carries a `<title>` with its
//! exact value. Colours come from CSS classes (`sev-0`…, `series-…`) through `currentColor`, so
//! the charts follow the light and dark themes.
//!
//! Charts without anything to draw say "No data yet" instead of drawing an empty frame, and a
//! line chart leaves a gap where a column has no value rather than drawing it as zero.

use std::fmt::Write as _;

use crate::ui::escape;

/// Drawing area, in SVG user units; the element scales to its container.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
/// Room for the value axis on the left, the column labels below, and a legend above.
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 30.0;
/// Fallback colours when the stylesheet is not loaded; the stylesheet's rules win.
const GRID_COLOUR: &str = "#d9dce3";
const TEXT_COLOUR: &str = "#5b6170";

/// One bar of a bar chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    /// Under the bar and in the summary, e.g. `P0`.
    pub label: String,
    /// What the bar's tooltip says it is, e.g. `P0 Critical`.
    pub name: String,
    pub value: u64,
    /// CSS class giving the bar its colour, e.g. `sev-0`.
    pub class: String,
}

/// A column of a chart over time: a short axis label and the name the summary uses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Column {
    /// Under the column, e.g. `Mar 2`.
    pub label: String,
    /// In the summary and tooltips, e.g. `week of 2026-03-02`.
    pub name: String,
}

/// One series of a stacked bar chart: a count per column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stack {
    pub name: String,
    pub class: String,
    pub values: Vec<u64>,
}

/// One series of a line chart: a value per column, `None` where there is none.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    pub name: String,
    pub class: String,
    pub values: Vec<Option<f64>>,
}

/// A number as a chart label: whole numbers without decimals, others with one.
pub(crate) fn number(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if (rounded - rounded.round()).abs() < f64::EPSILON {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// A bar per label, heights proportional to the values on an axis from zero.
pub(crate) fn bar_chart(title: &str, bars: &[Bar]) -> String {
    if bars.is_empty() {
        return no_data(title);
    }
    let summary = format!(
        "{title}: {}.",
        bars.iter()
            .map(|bar| format!("{} {}", bar.label, bar.value))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let max = bars.iter().map(|bar| bar.value).max().unwrap_or(0);
    let scale = Scale::new(max as f64, true);
    let mut svg = open(title, &summary);
    scale.draw_axis(&mut svg);
    let slot = plot_width() / bars.len() as f64;
    let width = (slot * 0.6).min(64.0);
    for (index, bar) in bars.iter().enumerate() {
        let centre = LEFT + slot * (index as f64 + 0.5);
        let height = scale.height(bar.value as f64);
        let _ = write!(
            svg,
            "<rect class=\"bar {class}\" fill=\"currentColor\" x=\"{x:.1}\" y=\"{y:.1}\" \
             width=\"{width:.1}\" height=\"{height:.1}\"><title>{name}: {value}</title></rect>",
            class = escape(&bar.class),
            x = centre - width / 2.0,
            y = baseline() - height,
            name = escape(&bar.name),
            value = bar.value,
        );
        value_label(
            &mut svg,
            centre,
            baseline() - height,
            &bar.value.to_string(),
        );
        column_label(&mut svg, centre, &bar.label);
    }
    close(svg)
}

/// Columns of stacked bars, one segment per series, with a legend; the total sits on top.
pub(crate) fn stacked_chart(title: &str, columns: &[Column], stacks: &[Stack]) -> String {
    if columns.is_empty() || stacks.is_empty() {
        return no_data(title);
    }
    let value = |stack: &Stack, column: usize| stack.values.get(column).copied().unwrap_or(0);
    let totals: Vec<u64> = (0..columns.len())
        .map(|column| stacks.iter().map(|stack| value(stack, column)).sum())
        .collect();
    let summary = format!(
        "{title}: {}.",
        columns
            .iter()
            .enumerate()
            .map(|(index, column)| {
                let parts: Vec<String> = stacks
                    .iter()
                    .filter(|stack| value(stack, index) > 0)
                    .map(|stack| format!("{} {}", stack.name, value(stack, index)))
                    .collect();
                if parts.is_empty() {
                    format!("{} 0", column.name)
                } else {
                    format!("{} {} ({})", column.name, totals[index], parts.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    );
    let scale = Scale::new(totals.iter().copied().max().unwrap_or(0) as f64, true);
    let mut svg = open(title, &summary);
    scale.draw_axis(&mut svg);
    legend(
        &mut svg,
        stacks
            .iter()
            .map(|stack| (stack.name.as_str(), stack.class.as_str())),
    );
    let slot = plot_width() / columns.len() as f64;
    let width = (slot * 0.6).min(64.0);
    for (index, column) in columns.iter().enumerate() {
        let centre = LEFT + slot * (index as f64 + 0.5);
        let mut below = 0.0;
        for stack in stacks {
            let count = value(stack, index);
            if count == 0 {
                continue;
            }
            let bottom = baseline() - scale.height(below);
            let top = baseline() - scale.height(below + count as f64);
            let _ = write!(
                svg,
                "<rect class=\"bar {class}\" fill=\"currentColor\" x=\"{x:.1}\" y=\"{top:.1}\" \
                 width=\"{width:.1}\" height=\"{height:.1}\"><title>{column}, {name}: {count}</title></rect>",
                class = escape(&stack.class),
                x = centre - width / 2.0,
                height = bottom - top,
                column = escape(&column.name),
                name = escape(&stack.name),
            );
            below += count as f64;
        }
        value_label(
            &mut svg,
            centre,
            baseline() - scale.height(below),
            &totals[index].to_string(),
        );
        column_label(&mut svg, centre, &column.label);
    }
    close(svg)
}

/// One or two series over the columns, in `unit`, on an axis from zero. A column without a
/// value is a gap in the line; a value between two gaps is drawn as a lone point.
pub(crate) fn line_chart(title: &str, unit: &str, columns: &[Column], lines: &[Line]) -> String {
    let value = |line: &Line, column: usize| line.values.get(column).copied().flatten();
    let max = lines
        .iter()
        .flat_map(|line| (0..columns.len()).filter_map(move |column| value(line, column)))
        .fold(None, |max: Option<f64>, value| {
            Some(max.map_or(value, |max| max.max(value)))
        });
    let Some(max) = max else {
        return no_data(title);
    };
    let summary = format!(
        "{title}, in {unit}: {}.",
        columns
            .iter()
            .enumerate()
            .map(|(index, column)| {
                let parts: Vec<String> = lines
                    .iter()
                    .filter_map(|line| {
                        value(line, index).map(|value| format!("{} {}", line.name, number(value)))
                    })
                    .collect();
                if parts.is_empty() {
                    format!("{} no data", column.name)
                } else {
                    format!("{} {}", column.name, parts.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    );
    let scale = Scale::new(max, false);
    let mut svg = open(title, &summary);
    scale.draw_axis(&mut svg);
    let _ = write!(
        svg,
        "<text class=\"unit\" fill=\"{TEXT_COLOUR}\" x=\"{x:.1}\" y=\"{y:.1}\" \
         text-anchor=\"end\">{unit}</text>",
        x = LEFT - 6.0,
        y = TOP - 12.0,
        unit = escape(unit),
    );
    legend(
        &mut svg,
        lines
            .iter()
            .map(|line| (line.name.as_str(), line.class.as_str())),
    );
    let slot = plot_width() / columns.len() as f64;
    let x = |column: usize| LEFT + slot * (column as f64 + 0.5);
    for line in lines {
        let mut path = String::new();
        let mut pen_down = false;
        let mut points = String::new();
        for (index, column) in columns.iter().enumerate() {
            let Some(point) = value(line, index) else {
                pen_down = false;
                continue;
            };
            let y = baseline() - scale.height(point);
            let _ = write!(
                path,
                "{}{:.1} {y:.1} ",
                if pen_down { "L" } else { "M" },
                x(index)
            );
            pen_down = true;
            let _ = write!(
                points,
                "<circle class=\"point\" fill=\"currentColor\" cx=\"{cx:.1}\" cy=\"{y:.1}\" r=\"3.5\">\
                 <title>{column}, {name}: {point} {unit}</title></circle>",
                cx = x(index),
                column = escape(&column.name),
                name = escape(&line.name),
                point = number(point),
                unit = escape(unit),
            );
        }
        let _ = write!(
            svg,
            "<g class=\"series {class}\"><path class=\"line\" fill=\"none\" stroke=\"currentColor\" \
             stroke-width=\"2\" stroke-linejoin=\"round\" d=\"{path}\"/>{points}</g>",
            class = escape(&line.class),
            path = path.trim_end(),
        );
    }
    for (index, column) in columns.iter().enumerate() {
        column_label(&mut svg, x(index), &column.label);
    }
    close(svg)
}

/// The chart drawn when there is nothing to draw.
fn no_data(title: &str) -> String {
    let mut svg = open(title, &format!("{title}: no data yet."));
    let _ = write!(
        svg,
        "<text class=\"empty\" fill=\"{TEXT_COLOUR}\" x=\"{x:.1}\" y=\"{y:.1}\" \
         text-anchor=\"middle\">No data yet</text>",
        x = WIDTH / 2.0,
        y = HEIGHT / 2.0,
    );
    close(svg)
}

fn open(title: &str, summary: &str) -> String {
    let mut svg = String::with_capacity(4096);
    let _ = write!(
        svg,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         role=\"img\" aria-label=\"{summary}\"><title>{title}</title>",
        summary = escape(summary),
        title = escape(title),
    );
    svg
}

fn close(mut svg: String) -> String {
    svg.push_str("</svg>");
    svg
}

fn plot_width() -> f64 {
    WIDTH - LEFT - RIGHT
}

fn plot_height() -> f64 {
    HEIGHT - TOP - BOTTOM
}

fn baseline() -> f64 {
    HEIGHT - BOTTOM
}

fn value_label(svg: &mut String, x: f64, top: f64, text: &str) {
    let _ = write!(
        svg,
        "<text class=\"value\" fill=\"{TEXT_COLOUR}\" x=\"{x:.1}\" y=\"{y:.1}\" \
         text-anchor=\"middle\">{text}</text>",
        y = top - 4.0,
        text = escape(text),
    );
}

fn column_label(svg: &mut String, x: f64, text: &str) {
    let _ = write!(
        svg,
        "<text class=\"label\" fill=\"{TEXT_COLOUR}\" x=\"{x:.1}\" y=\"{y:.1}\" \
         text-anchor=\"middle\">{text}</text>",
        y = baseline() + 16.0,
        text = escape(text),
    );
}

/// A row of swatches and names above the plot, one per series.
fn legend<'a>(svg: &mut String, entries: impl Iterator<Item = (&'a str, &'a str)>) {
    let mut x = LEFT;
    let _ = write!(svg, "<g class=\"legend\">");
    for (name, class) in entries {
        let _ = write!(
            svg,
            "<rect class=\"{class}\" fill=\"currentColor\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"10\" \
             height=\"10\"/><text fill=\"{TEXT_COLOUR}\" x=\"{tx:.1}\" y=\"{ty:.1}\">{name}</text>",
            class = escape(class),
            y = TOP - 22.0,
            tx = x + 14.0,
            ty = TOP - 13.0,
            name = escape(name),
        );
        // Wide enough for the name at the chart's text size.
        x += 24.0 + 6.5 * name.chars().count() as f64;
    }
    svg.push_str("</g>");
}

/// The value axis: from zero to a round number at or above the largest value, with a gridline
/// at each step.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scale {
    top: f64,
    step: f64,
}

impl Scale {
    /// Steps of 1, 2 or 5 times a power of ten, at most four of them above zero; counts step by
    /// whole numbers.
    fn new(max: f64, whole: bool) -> Self {
        if max <= 0.0 || !max.is_finite() {
            return Self {
                top: 1.0,
                step: 1.0,
            };
        }
        let rough = max / 4.0;
        let magnitude = 10f64.powf(rough.log10().floor());
        let mut step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|multiple| multiple * magnitude)
            .find(|step| *step >= rough)
            .unwrap_or(10.0 * magnitude);
        if whole {
            step = step.max(1.0).round();
        }
        Self {
            top: (max / step).ceil() * step,
            step,
        }
    }

    /// A tick's label, with as many decimals as the step needs.
    fn label(self, tick: f64) -> String {
        let decimals = (-self.step.log10().floor()).max(0.0);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let decimals = decimals as usize;
        format!("{tick:.decimals$}")
    }

    fn height(self, value: f64) -> f64 {
        (value / self.top).clamp(0.0, 1.0) * plot_height()
    }

    fn draw_axis(self, svg: &mut String) {
        let mut tick = 0.0;
        while tick <= self.top + self.step / 1000.0 {
            let y = baseline() - self.height(tick);
            let _ = write!(
                svg,
                "<line class=\"grid\" stroke=\"{GRID_COLOUR}\" x1=\"{LEFT}\" x2=\"{x2:.1}\" \
                 y1=\"{y:.1}\" y2=\"{y:.1}\"/><text class=\"tick\" fill=\"{TEXT_COLOUR}\" \
                 x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\">{label}</text>",
                x2 = WIDTH - RIGHT,
                tx = LEFT - 6.0,
                ty = y + 4.0,
                label = self.label(tick),
            );
            tick += self.step;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: u64) -> Bar {
        Bar {
            label: label.to_owned(),
            name: label.to_owned(),
            value,
            class: "sev-0".to_owned(),
        }
    }

    fn columns(count: usize) -> Vec<Column> {
        (0..count)
            .map(|index| Column {
                label: format!("w{index}"),
                name: format!("week {index}"),
            })
            .collect()
    }

    /// The values of attribute `name` on every `<tag ` element with `class` among its classes.
    fn attributes(svg: &str, tag: &str, class: &str, name: &str) -> Vec<f64> {
        svg.split(&format!("<{tag} "))
            .skip(1)
            .filter(|element| {
                element
                    .split("class=\"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .is_some_and(|classes| classes.split(' ').any(|each| each == class))
            })
            .map(|element| {
                let value = element
                    .split(&format!(" {name}=\""))
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap();
                value.parse().unwrap()
            })
            .collect()
    }

    fn aria_label(svg: &str) -> &str {
        svg.split("aria-label=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
    }

    #[test]
    fn bar_heights_are_proportional_to_the_values() {
        let svg = bar_chart(
            "Open",
            &[bar("P0", 1), bar("P1", 2), bar("P2", 4), bar("P3", 0)],
        );
        let heights = attributes(&svg, "rect", "bar", "height");
        assert_eq!(heights.len(), 4);
        assert!((heights[2] - plot_height()).abs() < 0.1, "{heights:?}");
        assert!((heights[1] * 2.0 - heights[2]).abs() < 0.2, "{heights:?}");
        assert!((heights[0] * 4.0 - heights[2]).abs() < 0.2, "{heights:?}");
        assert!(heights[3].abs() < f64::EPSILON);
        // Every bar stands on the same baseline.
        let tops = attributes(&svg, "rect", "bar", "y");
        for (top, height) in tops.iter().zip(&heights) {
            assert!((top + height - baseline()).abs() < 0.2);
        }
        assert_eq!(aria_label(&svg), "Open: P0 1, P1 2, P2 4, P3 0.");
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title>Open</title>"));
    }

    #[test]
    fn stacked_segments_add_up_to_the_column_total() {
        let stacks = [
            Stack {
                name: "P0".to_owned(),
                class: "sev-0".to_owned(),
                values: vec![1, 0, 2],
            },
            Stack {
                name: "P1".to_owned(),
                class: "sev-1".to_owned(),
                values: vec![3, 0, 2],
            },
        ];
        let svg = stacked_chart("Per week", &columns(3), &stacks);
        let heights = attributes(&svg, "rect", "bar", "height");
        // Empty segments are not drawn: 1 and 3 in the first column, 2 and 2 in the last.
        assert_eq!(heights.len(), 4);
        assert!((heights[1] - 3.0 * heights[0]).abs() < 0.2, "{heights:?}");
        assert!(
            (heights[0] + heights[1] - plot_height()).abs() < 0.2,
            "{heights:?}"
        );
        assert!(
            (heights[2] + heights[3] - plot_height()).abs() < 0.2,
            "{heights:?}"
        );
        assert_eq!(
            aria_label(&svg),
            "Per week: week 0 4 (P0 1, P1 3); week 1 0; week 2 4 (P0 2, P1 2)."
        );
    }

    #[test]
    fn a_line_breaks_where_a_column_has_no_value() {
        let line = Line {
            name: "MTTA".to_owned(),
            class: "series-a".to_owned(),
            values: vec![Some(10.0), Some(20.0), None, Some(5.0)],
        };
        let svg = line_chart("Medians", "minutes", &columns(4), &[line]);
        let path = svg
            .split(" d=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert_eq!(path.matches('L').count(), 1, "{path}");
        let points = attributes(&svg, "circle", "point", "cy");
        assert_eq!(points.len(), 3);
        // 20 is the top of a 0-20 axis; nothing is drawn at zero for the missing week.
        assert!((points[1] - TOP).abs() < 0.1, "{points:?}");
        assert!(points.iter().all(|y| (y - baseline()).abs() > 1.0));
        assert_eq!(
            aria_label(&svg),
            "Medians, in minutes: week 0 MTTA 10; week 1 MTTA 20; week 2 no data; week 3 MTTA 5."
        );
    }

    #[test]
    fn charts_without_data_say_so() {
        for svg in [
            bar_chart("Open", &[]),
            stacked_chart("Per week", &[], &[]),
            line_chart(
                "Medians",
                "minutes",
                &columns(3),
                &[Line {
                    name: "MTTR".to_owned(),
                    class: "series-b".to_owned(),
                    values: vec![None, None, None],
                }],
            ),
        ] {
            assert!(svg.contains(">No data yet</text>"), "{svg}");
            assert!(aria_label(&svg).ends_with(": no data yet."), "{svg}");
            assert!(!svg.contains("<rect"), "{svg}");
            assert!(svg.starts_with("<svg class=\"chart\""));
            assert!(svg.ends_with("</svg>"));
        }
    }

    #[test]
    fn every_text_is_escaped() {
        let hostile = "<script>alert(\"x\")</script> & 'more'";
        let svg = bar_chart(
            hostile,
            &[Bar {
                label: hostile.to_owned(),
                name: hostile.to_owned(),
                value: 1,
                class: "\"><script>".to_owned(),
            }],
        );
        let stacked = stacked_chart(
            hostile,
            &[Column {
                label: hostile.to_owned(),
                name: hostile.to_owned(),
            }],
            &[Stack {
                name: hostile.to_owned(),
                class: hostile.to_owned(),
                values: vec![1],
            }],
        );
        let line = line_chart(
            hostile,
            hostile,
            &[Column {
                label: hostile.to_owned(),
                name: hostile.to_owned(),
            }],
            &[Line {
                name: hostile.to_owned(),
                class: hostile.to_owned(),
                values: vec![Some(1.0)],
            }],
        );
        for svg in [svg, stacked, line, no_data(hostile)] {
            assert!(!svg.contains("<script"), "{svg}");
            assert!(!svg.contains("\"x\""), "{svg}");
            assert!(!svg.contains("'more'"), "{svg}");
            assert!(
                svg.contains(
                    "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;more&#39;"
                )
            );
        }
    }

    #[test]
    fn the_axis_ends_on_a_round_number() {
        assert_eq!(
            Scale::new(4.0, true),
            Scale {
                top: 4.0,
                step: 1.0
            }
        );
        assert_eq!(
            Scale::new(3.0, true),
            Scale {
                top: 3.0,
                step: 1.0
            }
        );
        assert_eq!(
            Scale::new(7.0, true),
            Scale {
                top: 8.0,
                step: 2.0
            }
        );
        assert_eq!(
            Scale::new(0.0, true),
            Scale {
                top: 1.0,
                step: 1.0
            }
        );
        assert_eq!(
            Scale::new(130.0, false),
            Scale {
                top: 150.0,
                step: 50.0
            }
        );
        let small = Scale::new(0.03, false);
        assert_eq!(small.label(0.0), "0.00");
        assert_eq!(small.label(small.step), "0.01");
        assert_eq!(Scale::new(130.0, false).label(100.0), "100");
        assert_eq!(number(12.0), "12");
        assert_eq!(number(12.25), "12.3");
        assert_eq!(number(0.04), "0");
    }
}
