//! `process` inputs: S3 URIs, files and folders, as the objects to process.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::error::CliError;
use super::source::CliObject;
use crate::cli::s3_uri::parse_s3_uri;
use crate::log_key;
use crate::source::Location;

/// What the command line names.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    /// The objects to process, in command-line order (folders in path order), each once.
    pub objects: Vec<CliObject>,
    /// Files found in folders that are not CloudTrail log files, with the reason.
    pub skipped: Vec<(String, &'static str)>,
}

/// Expands the inputs: an S3 URI or a file is processed whatever its name (the operator chose it);
/// in a folder, read recursively, only CloudTrail log file names are.
pub fn expand(arguments: &[String]) -> Result<Inputs, CliError> {
    let mut inputs = Inputs::default();
    let mut seen = BTreeSet::new();
    let mut add = |inputs: &mut Inputs, location: CliObject| {
        if seen.insert(location.clone()) {
            inputs.objects.push(location);
        }
    };
    for argument in arguments {
        if argument.starts_with("s3://") {
            let object =
                parse_s3_uri(argument).map_err(|error| CliError::Usage(format!("{error}")))?;
            add(&mut inputs, CliObject::S3(object));
            continue;
        }
        let path = Path::new(argument);
        let metadata = std::fs::metadata(path).map_err(|error| {
            CliError::Usage(format!(
                "{argument}: {error} (give a file, a folder or s3://bucket/key)"
            ))
        })?;
        if metadata.is_dir() {
            let files = walk(path).map_err(|error| {
                CliError::Usage(format!("cannot read the folder {argument}: {error}"))
            })?;
            for file in files {
                let location = local(&file)?;
                match log_key::classify(&location.key_text()).skip_reason() {
                    None => add(&mut inputs, location),
                    Some(reason) => inputs.skipped.push((location.to_string(), reason)),
                }
            }
        } else {
            add(&mut inputs, local(path)?);
        }
    }
    Ok(inputs)
}

fn local(path: &Path) -> Result<CliObject, CliError> {
    CliObject::local_file(path)
        .map_err(|error| CliError::Usage(format!("{}: {error}", path.display())))
}

/// The files below `folder`, sorted by path. Symbolic links to folders are not followed (no loops);
/// those to files are read.
fn walk(folder: &Path) -> Result<Vec<PathBuf>, walkdir::Error> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(folder).sort_by_file_name() {
        let entry = entry?;
        let file_type = entry.file_type();
        if file_type.is_file() || (file_type.is_symlink() && entry.path().is_file()) {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG_FILE: &str = "123456789012_CloudTrail_us-east-1_20230501T1200Z_abcdEFGH1234.json.gz";
    const DIGEST: &str =
        "123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20230501T120000Z.json.gz";

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    #[test]
    fn folders_are_read_recursively_keeping_only_log_files() {
        let dir = tempfile::tempdir().unwrap();
        let day = dir
            .path()
            .join("AWSLogs/123456789012/CloudTrail/us-east-1/2023/05/01");
        std::fs::create_dir_all(&day).unwrap();
        std::fs::write(day.join(LOG_FILE), b"").unwrap();
        std::fs::write(dir.path().join(DIGEST), b"").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"").unwrap();
        let inputs = expand(&strings(&[dir.path().to_str().unwrap()])).unwrap();
        assert_eq!(
            inputs.objects,
            vec![CliObject::LocalFile(day.join(LOG_FILE))]
        );
        let skipped: Vec<&str> = inputs.skipped.iter().map(|(_, reason)| *reason).collect();
        assert_eq!(skipped, ["digest file", "not a CloudTrail log file"]);
    }

    #[test]
    fn a_folder_s_log_files_come_in_path_order_and_links_to_folders_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let name = |minute: &str| {
            format!("123456789012_CloudTrail_us-east-1_20230501T12{minute}Z_abcdEFGH1234.json.gz")
        };
        let paths = [
            dir.path().join(name("10")),
            dir.path().join("2023/05/01").join(name("00")),
            dir.path().join("2023/05/01").join(name("05")),
            dir.path().join("2023/05/02").join(name("00")),
        ];
        for path in paths.iter().rev() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"").unwrap();
        }
        std::os::unix::fs::symlink(dir.path().join("2023"), dir.path().join("2023/loop")).unwrap();
        let inputs = expand(&strings(&[dir.path().to_str().unwrap()])).unwrap();
        let expected: Vec<CliObject> = paths.into_iter().map(CliObject::LocalFile).collect();
        assert_eq!(inputs.objects, expected);
    }

    #[test]
    fn a_file_named_explicitly_is_processed_whatever_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let export = dir.path().join("export.json");
        std::fs::write(&export, b"").unwrap();
        let inputs = expand(&strings(&[export.to_str().unwrap()])).unwrap();
        assert_eq!(inputs.objects, vec![CliObject::LocalFile(export)]);
    }

    #[test]
    fn s3_uris_are_objects_and_each_input_counts_once() {
        let inputs = expand(&strings(&[
            "s3://bucket/a/key.json.gz",
            "s3://bucket/a/key.json.gz",
        ]))
        .unwrap();
        assert_eq!(inputs.objects.len(), 1);
        assert_eq!(inputs.objects[0].to_string(), "s3://bucket/a/key.json.gz");
    }

    #[test]
    fn a_bad_uri_or_a_missing_path_is_a_usage_error() {
        for input in ["s3://", "s3://bucket", "/nonexistent/a4b-audit/file.json"] {
            let error = expand(&strings(&[input])).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{input}: {error}");
        }
    }
}
