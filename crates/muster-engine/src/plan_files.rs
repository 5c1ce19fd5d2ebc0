//! Reading a plan from disk: one YAML file, or every `.yaml`/`.yml` file under a folder in path
//! order, each loaded with its display name so diagnostics point at the right file.

use std::path::{Path, PathBuf};

use muster_core::plan::{self, Loaded, Source};

/// The files of a plan, as (display name, text).
pub fn read(path: &Path) -> Result<Vec<(String, String)>, String> {
    let metadata = std::fs::metadata(path)
        .map_err(|error| format!("cannot read the plan at {}: {error}", path.display()))?;
    let mut paths = Vec::new();
    if metadata.is_dir() {
        collect_yaml(path, &mut paths)?;
        if paths.is_empty() {
            return Err(format!(
                "the folder {} holds no .yaml or .yml file",
                path.display()
            ));
        }
    } else {
        paths.push(path.to_path_buf());
    }
    paths
        .into_iter()
        .map(|file| {
            std::fs::read_to_string(&file)
                .map(|text| (file.display().to_string(), text))
                .map_err(|error| format!("cannot read {}: {error}", file.display()))
        })
        .collect()
}

fn collect_yaml(folder: &Path, paths: &mut Vec<PathBuf>) -> Result<(), String> {
    let listing_error =
        |error: std::io::Error| format!("cannot list {}: {error}", folder.display());
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(listing_error)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()
        .map_err(listing_error)?;
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_yaml(&entry, paths)?;
        } else if entry
            .extension()
            .is_some_and(|extension| extension == "yaml" || extension == "yml")
        {
            paths.push(entry);
        }
    }
    Ok(())
}

/// Reads and checks a plan; the files come back too, for showing excerpts.
pub fn load(path: &Path, now: jiff::Timestamp) -> Result<(Vec<(String, String)>, Loaded), String> {
    let files = read(path)?;
    let sources: Vec<Source<'_>> = files
        .iter()
        .map(|(name, text)| Source { name, text })
        .collect();
    let loaded = plan::load(&sources, now);
    Ok((files, loaded))
}
