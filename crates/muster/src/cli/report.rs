//! `muster report`: the team's numbers over a period, read directly from the database with the
//! plan's targets (no server needed) — as a table, as JSON (what `GET /api/metrics/report`
//! answers), and optionally as an SVG chart of acknowledge and resolve times.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use jiff::civil::Date;
use muster_core::metrics::{self, Compliance, Report, TimeFigure, Times};
use muster_engine::{Engine, RunningPlan, SystemClock, plan_files};
use muster_store::Backend;

use crate::cli::serve::DatabaseArg;
use crate::cli::table;

/// How many days a report covers when `--from` is not given.
const DEFAULT_DAYS: i64 = 30;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The first day counted, YYYY-MM-DD in the plan's time zone [default: 30 days ago, today
    /// included].
    #[arg(long, value_name = "DATE", value_parser = metrics::parse_day)]
    from: Option<Date>,
    /// The first day NOT counted, YYYY-MM-DD in the plan's time zone [default: tomorrow].
    #[arg(long, value_name = "DATE", value_parser = metrics::parse_day)]
    until: Option<Date>,
    /// Count drills (and their action items) too.
    #[arg(long)]
    drills: bool,
    /// `table` for people, `json` for scripts (the same JSON as `GET /api/metrics/report`).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write an SVG chart of acknowledge and resolve times per severity to this file.
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
    /// The plan file or folder: its severities, targets and time zone.
    #[arg(long, env = "MUSTER_PLAN", default_value = "muster.yaml")]
    plan: PathBuf,
    #[command(flatten)]
    database: DatabaseArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

pub fn run(args: &ReportArgs) -> Result<ExitCode> {
    // Everything about the invocation is checked before anything is read or written.
    if let Some(chart) = &args.chart {
        check_chart_path(chart)?;
    }
    if let Backend::Sqlite(path) = Backend::of(&args.database.url)?
        && path != ":memory:"
        && !Path::new(&path).is_file()
    {
        bail!(
            "there is no database at {path}; give the server's database with --database (or MUSTER_DATABASE_URL)"
        );
    }
    let now = jiff::Timestamp::now();
    let (_, loaded) = plan_files::load(&args.plan, now).map_err(anyhow::Error::msg)?;
    let Some(plan) = loaded.clean_plan().cloned() else {
        bail!(
            "the plan {} has errors; `muster plan check {}` shows them",
            args.plan.display(),
            args.plan.display()
        );
    };
    let zone = plan.timezone().to_owned();
    let (default_from, default_until) =
        metrics::last_days(&zone, now.as_millisecond(), DEFAULT_DAYS);
    let from_day = args.from.unwrap_or(default_from);
    let until_day = args.until.unwrap_or(default_until);
    if from_day >= until_day {
        let which = if args.until.is_some() {
            "--until"
        } else {
            "--from"
        };
        bail!(
            "the period from {from_day} until {until_day} is empty: {which} must leave at least one day (--until is the first day not counted, so it must be later than --from)"
        );
    }
    let (from, until) = metrics::days(&zone, from_day, until_day).with_context(|| {
        format!(
            "the days {from_day} and {until_day} cannot be placed in the plan's time zone {zone}"
        )
    })?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        let store = args.database.open().await?;
        let engine = Engine::new(
            store,
            RunningPlan {
                plan,
                path: Some(args.plan.clone()),
                loaded_at: now.as_millisecond(),
                warnings: loaded.diagnostics,
            },
            Arc::new(SystemClock),
        );
        engine
            .report(from, until, args.drills)
            .await
            .context("cannot read the incidents")
    })?;
    let period = Period {
        from: from_day,
        until: until_day,
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Table => print!("{}", render_table(&report, &period)),
    }
    if let Some(path) = &args.chart {
        std::fs::write(path, chart(&report, &period))
            .with_context(|| format!("cannot write the chart to {}", path.display()))?;
        eprintln!("chart written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The chart goes into an existing folder, under a name ending in `.svg`.
fn check_chart_path(path: &Path) -> Result<()> {
    if path
        .extension()
        .is_none_or(|extension| !extension.eq_ignore_ascii_case("svg"))
    {
        bail!(
            "--chart {}: the chart is SVG; give a file name ending in .svg",
            path.display()
        );
    }
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        bail!(
            "--chart {}: there is no folder {}; create it first or write the chart elsewhere",
            path.display(),
            folder.display()
        );
    }
    if path.is_dir() {
        bail!(
            "--chart {}: that is a folder; give a file name",
            path.display()
        );
    }
    Ok(())
}

/// The days a report covers, as asked.
struct Period {
    from: Date,
    /// The first day not counted.
    until: Date,
}

impl Period {
    /// `2026-01-01 to 2026-01-31`: the last day shown is the last day counted.
    fn words(&self) -> String {
        let last = self.until.yesterday().unwrap_or(self.until);
        if last == self.from {
            self.from.to_string()
        } else {
            format!("{} to {last}", self.from)
        }
    }
}

/// A duration as a person reads it: `45s`, `4m 12s`, `1h 30m`, `2d 3h`.
fn span(seconds: f64) -> String {
    #[allow(clippy::cast_possible_truncation)]
    let total = seconds.round() as i64;
    let (days, hours, minutes, secs) = (
        total / 86_400,
        total % 86_400 / 3600,
        total % 3600 / 60,
        total % 60,
    );
    let pair = |big: i64, big_unit: &str, small: i64, small_unit: &str| {
        if small == 0 {
            format!("{big}{big_unit}")
        } else {
            format!("{big}{big_unit} {small}{small_unit}")
        }
    };
    if days > 0 {
        pair(days, "d", hours, "h")
    } else if hours > 0 {
        pair(hours, "h", minutes, "m")
    } else if minutes > 0 {
        pair(minutes, "m", secs, "s")
    } else {
        format!("{secs}s")
    }
}

fn optional_span(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "–".to_owned(), span)
}

fn mark(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "",
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |value| format!("{value:.1}%"))
}

/// Picks one duration of the three.
type Pick = fn(&Times) -> &TimeFigure;

/// The report as aligned text tables.
fn render_table(report: &Report, period: &Period) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Incidents declared {} ({}): {}{}",
        period.words(),
        report.timezone,
        report.incidents,
        if report.drills_included {
            format!(", drills included ({} drills)", report.drills)
        } else {
            ", drills left out".to_owned()
        }
    );
    let times: [(&str, Pick); 3] = [
        ("TIME TO DETECT (start of impact to detection)", |times| {
            &times.mttd
        }),
        (
            "TIME TO ACKNOWLEDGE (detection to acknowledgement)",
            |times| &times.mtta,
        ),
        ("TIME TO RESOLVE (detection to resolution)", |times| {
            &times.mttr
        }),
    ];
    for (title, figure) in times {
        let _ = writeln!(out, "\n{title}; targets are met by the mean");
        let mut rows = vec![time_row("all", figure(&report.overall))];
        rows.extend(
            report
                .severities
                .iter()
                .map(|severity| time_row(severity.severity.as_str(), figure(&severity.times))),
        );
        out.push_str(&table::render(
            &[
                "SEVERITY", "COUNT", "MEDIAN", "P90", "MEAN", "TARGET", "MET",
            ],
            &rows,
        ));
    }

    let _ = writeln!(
        out,
        "\nDEADLINES KEPT (still within a deadline: not counted)"
    );
    let rows: Vec<Vec<String>> = report
        .severities
        .iter()
        .map(|severity| {
            vec![
                severity.severity.to_string(),
                severity.incidents.to_string(),
                compliance(severity.acknowledged_in_time.as_ref()),
                compliance(severity.resolved_in_time.as_ref()),
                compliance(severity.detected_in_time.as_ref()),
            ]
        })
        .collect();
    out.push_str(&table::render(
        &[
            "SEVERITY",
            "INCIDENTS",
            "ACKNOWLEDGED IN TIME",
            "RESOLVED IN TIME",
            "DETECTED IN TIME",
        ],
        &rows,
    ));

    let _ = writeln!(out, "\nBY CATEGORY");
    let rows: Vec<Vec<String>> = report
        .categories
        .iter()
        .map(|category| {
            vec![
                category
                    .category
                    .as_ref()
                    .map_or_else(|| "(none)".to_owned(), ToString::to_string),
                category.incidents.to_string(),
                optional_span(category.times.mttd.median_seconds),
                optional_span(category.times.mtta.median_seconds),
                optional_span(category.times.mttr.median_seconds),
            ]
        })
        .collect();
    out.push_str(&table::render(
        &[
            "CATEGORY",
            "INCIDENTS",
            "MTTD MEDIAN",
            "MTTA MEDIAN",
            "MTTR MEDIAN",
        ],
        &rows,
    ));

    let repeats = &report.repeats;
    let _ = write!(
        out,
        "\nRepeat rate: {} of {} incidents with a root cause had it before",
        percent(repeats.rate_percent),
        repeats.tagged
    );
    if let Some(target) = repeats.target_percent {
        let _ = write!(out, " (target ≤ {target}%) {}", mark(repeats.met));
    }
    out.push('\n');
    if !repeats.tags.is_empty() {
        let tags: Vec<String> = repeats
            .tags
            .iter()
            .take(5)
            .map(|tag| format!("{} ×{}", tag.tag, tag.incidents))
            .collect();
        let _ = writeln!(out, "  most repeated: {}", tags.join(", "));
    }
    let items = &report.action_items;
    let _ = writeln!(
        out,
        "Action items created: {} — {} done, {} dropped, {} open ({} overdue); completion {}, on time {}",
        items.total,
        items.done,
        items.dropped,
        items.open,
        items.overdue,
        percent(items.completion_percent),
        percent(items.on_time_percent)
    );
    out
}

fn time_row(label: &str, figure: &TimeFigure) -> Vec<String> {
    vec![
        label.to_owned(),
        figure.count.to_string(),
        optional_span(figure.median_seconds),
        optional_span(figure.p90_seconds),
        optional_span(figure.mean_seconds),
        figure
            .target_seconds
            .map_or_else(|| "–".to_owned(), |target| format!("≤ {}", span(target))),
        mark(figure.met).to_owned(),
    ]
}

fn compliance(compliance: Option<&Compliance>) -> String {
    match compliance {
        None => "no deadline".to_owned(),
        Some(kept) if kept.kept + kept.missed == 0 => {
            format!("– (≤ {})", span(kept.within_seconds))
        }
        Some(kept) => format!(
            "{} ({} of {}, ≤ {})",
            percent(kept.percent),
            kept.kept,
            kept.kept + kept.missed,
            span(kept.within_seconds)
        ),
    }
}

/// Text for XML: `&`, `<`, `>`, `"` and `'` escaped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Where the chart's ticks may go, in seconds.
const TICKS: [f64; 17] = [
    1.0,
    10.0,
    30.0,
    60.0,
    300.0,
    900.0,
    1800.0,
    3600.0,
    7200.0,
    14_400.0,
    28_800.0,
    86_400.0,
    172_800.0,
    604_800.0,
    2_592_000.0,
    7_776_000.0,
    31_536_000.0,
];

/// A standalone SVG: per severity a bar of the median time to acknowledge and one of the median
/// time to resolve, the 90th percentile as a tick above each, and each severity's targets as
/// dashed lines across its bars. The time axis is logarithmic, so minutes and hours both show.
fn chart(report: &Report, period: &Period) -> String {
    const WIDTH: f64 = 760.0;
    const HEIGHT: f64 = 420.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 20.0;
    const TOP: f64 = 50.0;
    const BOTTOM: f64 = 70.0;
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let title = format!(
        "Time to acknowledge and to resolve by severity, {} ({})",
        period.words(),
        report.timezone
    );

    let mut values: Vec<f64> = Vec::new();
    for severity in &report.severities {
        for figure in [&severity.times.mtta, &severity.times.mttr] {
            values.extend(figure.median_seconds);
            values.extend(figure.p90_seconds);
            values.extend(figure.target_seconds);
        }
    }
    let positive = values.iter().copied().filter(|value| *value > 0.0);
    let low = positive.clone().fold(f64::INFINITY, f64::min);
    let high = positive.fold(0.0, f64::max);
    let bottom = TICKS
        .iter()
        .rev()
        .copied()
        .find(|tick| *tick < low)
        .unwrap_or(TICKS[0]);
    let top = TICKS
        .iter()
        .copied()
        .find(|tick| *tick >= high && *tick > bottom)
        .unwrap_or(TICKS[TICKS.len() - 1]);
    let y = |seconds: f64| {
        let clamped = seconds.clamp(bottom, top);
        let share = (clamped.ln() - bottom.ln()) / (top.ln() - bottom.ln());
        TOP + plot_height * (1.0 - share)
    };

    let mut description = String::new();
    for severity in &report.severities {
        let _ = write!(
            description,
            "{}: {} incidents, median time to acknowledge {} (target {}), median time to resolve {} (target {}). ",
            severity.severity,
            severity.incidents,
            optional_span(severity.times.mtta.median_seconds),
            optional_span(severity.times.mtta.target_seconds),
            optional_span(severity.times.mttr.median_seconds),
            optional_span(severity.times.mttr.target_seconds),
        );
    }

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" font-family="system-ui, sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<title id="chart-title">{}</title>"#, xml(&title));
    let _ = writeln!(
        svg,
        r#"<desc id="chart-desc">{}</desc>"#,
        xml(description.trim_end())
    );
    let _ = writeln!(
        svg,
        r##"<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="24" text-anchor="middle" font-size="15" font-weight="600" fill="#1f2933">{}</text>"##,
        WIDTH / 2.0,
        xml(&title)
    );

    // The axis, its ticks and labels.
    for tick in TICKS
        .iter()
        .copied()
        .filter(|tick| *tick >= bottom && *tick <= top)
    {
        let at = y(tick);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{at:.1}" y2="{at:.1}" stroke="#e4e7eb"/><text x="{}" y="{:.1}" text-anchor="end" fill="#52606d">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            at + 4.0,
            xml(&span(tick))
        );
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{}" stroke="#52606d"/><line x1="{LEFT}" x2="{}" y1="{}" y2="{}" stroke="#52606d"/>"##,
        TOP + plot_height,
        WIDTH - RIGHT,
        TOP + plot_height,
        TOP + plot_height
    );
    let _ = writeln!(
        svg,
        r##"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle" fill="#1f2933">time from detection (log scale)</text>"##,
        TOP + plot_height / 2.0
    );
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="#1f2933">severity</text>"##,
        LEFT + plot_width / 2.0,
        HEIGHT - 34.0
    );

    // The bars, two per severity.
    let groups = report.severities.len().max(1) as f64;
    let group_width = plot_width / groups;
    let bar_width = (group_width * 0.3).min(60.0);
    let series = [
        ("time to acknowledge", "#3e7cb1"),
        ("time to resolve", "#d9822b"),
    ];
    for (index, severity) in report.severities.iter().enumerate() {
        let center = LEFT + group_width * (index as f64 + 0.5);
        let figures = [&severity.times.mtta, &severity.times.mttr];
        for (which, (figure, (name, colour))) in figures.iter().zip(series).enumerate() {
            let x = center + if which == 0 { -bar_width - 2.0 } else { 2.0 };
            if let Some(median) = figure.median_seconds {
                let top_y = if median > 0.0 {
                    y(median)
                } else {
                    TOP + plot_height
                };
                let _ = writeln!(
                    svg,
                    r#"<rect x="{x:.1}" y="{top_y:.1}" width="{bar_width:.1}" height="{:.1}" fill="{colour}"><title>{}</title></rect>"#,
                    TOP + plot_height - top_y,
                    xml(&format!(
                        "{}: median {name} {} of {} incidents",
                        severity.severity,
                        span(median),
                        figure.count
                    ))
                );
            }
            if let Some(p90) = figure.p90_seconds.filter(|p90| *p90 > 0.0) {
                let at = y(p90);
                let _ = writeln!(
                    svg,
                    r##"<line x1="{:.1}" x2="{:.1}" y1="{at:.1}" y2="{at:.1}" stroke="#1f2933" stroke-width="2"><title>{}</title></line>"##,
                    x + bar_width * 0.2,
                    x + bar_width * 0.8,
                    xml(&format!(
                        "{}: 90th percentile {name} {}",
                        severity.severity,
                        span(p90)
                    ))
                );
            }
            if let Some(target) = figure.target_seconds.filter(|target| *target > 0.0) {
                let at = y(target);
                let _ = writeln!(
                    svg,
                    r##"<line x1="{:.1}" x2="{:.1}" y1="{at:.1}" y2="{at:.1}" stroke="#c23030" stroke-width="2" stroke-dasharray="5 3"><title>{}</title></line>"##,
                    x - 4.0,
                    x + bar_width + 4.0,
                    xml(&format!(
                        "{}: target {name} {}",
                        severity.severity,
                        span(target)
                    ))
                );
            }
        }
        let _ = writeln!(
            svg,
            r##"<text x="{center:.1}" y="{:.1}" text-anchor="middle" fill="#1f2933">{}</text>"##,
            TOP + plot_height + 18.0,
            xml(severity.severity.as_str())
        );
    }

    // The legend.
    let legend_y = HEIGHT - 14.0;
    let mut x = LEFT;
    for (name, colour) in series {
        let _ = writeln!(
            svg,
            r##"<rect x="{x:.1}" y="{:.1}" width="12" height="12" fill="{colour}"/><text x="{:.1}" y="{legend_y:.1}" fill="#1f2933">median {name}</text>"##,
            legend_y - 10.0,
            x + 16.0
        );
        x += 40.0 + 6.5 * format!("median {name}").len() as f64;
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{x:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#1f2933" stroke-width="2"/><text x="{:.1}" y="{legend_y:.1}" fill="#1f2933">90th percentile</text>"##,
        x + 14.0,
        legend_y - 4.0,
        legend_y - 4.0,
        x + 18.0
    );
    x += 130.0;
    let _ = writeln!(
        svg,
        r##"<line x1="{x:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#c23030" stroke-width="2" stroke-dasharray="5 3"/><text x="{:.1}" y="{legend_y:.1}" fill="#1f2933">target</text>"##,
        x + 14.0,
        legend_y - 4.0,
        legend_y - 4.0,
        x + 18.0
    );
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_people_write_them() {
        assert_eq!(span(0.0), "0s");
        assert_eq!(span(45.4), "45s");
        assert_eq!(span(240.0), "4m");
        assert_eq!(span(252.0), "4m 12s");
        assert_eq!(span(5400.0), "1h 30m");
        assert_eq!(span(3.0 * 86_400.0 + 7200.0), "3d 2h");
    }

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(
            xml(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;"
        );
    }
}
