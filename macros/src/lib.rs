//! `embed_migrations!`, re-exported by devdb as `devdb::embed_migrations!`: puts every
//! revision file of a folder into the binary, so an application migrates at start-up
//! without shipping the folder. No dependencies: the input is one string literal.

use std::path::{Path, PathBuf};

use proc_macro::TokenStream;

/// Embeds the `*.sql` files directly in a folder (named relative to the calling crate's
/// `Cargo.toml`) as a `devdb::EmbeddedMigrations`. See `devdb::embed_migrations!`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(code) => code,
        Err(message) => compile_error(&message),
    }
    .parse()
    .expect("the expansion is valid Rust")
}

fn expand(input: TokenStream) -> Result<String, String> {
    let dir = folder_argument(input)?;
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .ok_or("embed_migrations!: CARGO_MANIFEST_DIR is not set; build with cargo")?;
    let absolute = manifest_dir.join(&dir);
    let files = sql_files(&absolute).map_err(|error| {
        format!(
            "embed_migrations!: cannot read the migrations folder {} ({error}); \
             the path is relative to the folder of the crate's Cargo.toml",
            absolute.display()
        )
    })?;
    let mut entries = String::new();
    for file in &files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("embed_migrations!: {} is not a UTF-8 name", file.display()))?;
        let path = file
            .to_str()
            .ok_or_else(|| format!("embed_migrations!: {} is not a UTF-8 path", file.display()))?;
        entries.push_str(&format!("({name:?}, ::core::include_str!({path:?})),"));
    }
    Ok(format!(
        "::devdb::EmbeddedMigrations::__from_macro({dir:?}, &[{entries}])"
    ))
}

/// The one string literal the macro takes.
fn folder_argument(input: TokenStream) -> Result<String, String> {
    let usage = "embed_migrations! takes one string literal: the migrations folder, \
                 relative to the crate's Cargo.toml, e.g. embed_migrations!(\"migrations\")";
    let tokens: Vec<_> = input.into_iter().collect();
    let [proc_macro::TokenTree::Literal(literal)] = tokens.as_slice() else {
        return Err(usage.to_string());
    };
    let text = literal.to_string();
    let inner = if let Some(raw) = text.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let fence = "#".repeat(hashes);
        raw.strip_prefix(&format!("{fence}\""))
            .and_then(|r| r.strip_suffix(&format!("\"{fence}")))
            .map(str::to_string)
    } else {
        text.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .and_then(unescape)
    };
    match inner {
        Some(dir) if !dir.is_empty() => Ok(dir),
        _ => Err(usage.to_string()),
    }
}

/// The value of a plain string literal's body; `None` for escapes other than `\\`, `\"`.
fn unescape(body: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// The `*.sql` files directly in `dir`, by file name: what devdb's folder loader reads.
fn sql_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sql") && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

fn compile_error(message: &str) -> String {
    format!("::core::compile_error!({message:?})")
}
