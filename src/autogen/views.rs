//! Views and functions, which hold on to each other: which are dropped and created
//! again (changed, or over something that changes under them), in which order views come,
//! and where in the order of the script a function goes ([`FunctionTier`]).

use std::collections::BTreeSet;

use super::tables::{regenerated_columns, retyped};
use super::{Gen, comment_value, qualified};
use crate::catalog::{Catalog, Function, RoutineKind, View};

pub(super) fn view_key(v: &View) -> String {
    format!("{}.{}", v.schema, v.name)
}

fn function_key(f: &Function) -> String {
    format!("{}.{}({})", f.schema, f.name, f.arguments)
}

pub(super) fn function_signature(f: &Function) -> String {
    format!("{}({})", qualified(&f.schema, &f.name), f.arguments)
}

fn function_keyword(f: &Function) -> &'static str {
    match f.kind {
        RoutineKind::Procedure => "PROCEDURE",
        RoutineKind::Aggregate => "AGGREGATE",
        _ => "FUNCTION",
    }
}

fn view_keyword(v: &View) -> &'static str {
    if v.materialized {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    }
}

/// Views in an order where each comes after the views it depends on (`pg_depend`).
fn view_order<'a>(views: &[&'a View]) -> Vec<&'a View> {
    let mut ordered: Vec<&View> = Vec::new();
    let mut pending: Vec<&View> = views.to_vec();
    while !pending.is_empty() {
        let keys: BTreeSet<String> = pending.iter().map(|v| view_key(v)).collect();
        let (ready, waiting): (Vec<&View>, Vec<&View>) = pending
            .iter()
            .partition(|v| !v.depends_on.iter().any(|d| keys.contains(d)));
        if ready.is_empty() {
            // Views cannot depend on each other in a cycle; keep the order if they seem to.
            ordered.extend(waiting);
            break;
        }
        ordered.extend(ready);
        pending = waiting;
    }
    ordered
}

/// Where a function is created: before the tables when nothing in it depends on one (a
/// column default or check can then call it), after the tables when its row types or
/// SQL-standard body name tables, after the views when they name a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum FunctionTier {
    BeforeTables,
    AfterTables,
    AfterViews,
}

fn function_tier(catalog: &Catalog, f: &Function) -> FunctionTier {
    tier_within(catalog, f, catalog.functions.len())
}

/// The tier of `f`: the latest of what it depends on, the functions it calls (an
/// aggregate's support functions) included; `depth` guards against a cycle.
fn tier_within(catalog: &Catalog, f: &Function, depth: usize) -> FunctionTier {
    if f.definition.is_none() {
        return FunctionTier::AfterViews;
    }
    let mut tier = FunctionTier::BeforeTables;
    for d in &f.depends_on {
        let here = if catalog.views.contains_key(d) {
            FunctionTier::AfterViews
        } else if catalog.tables.contains_key(d) {
            FunctionTier::AfterTables
        } else {
            match catalog.functions.get(d) {
                Some(g) if depth > 0 && g.name != f.name => tier_within(catalog, g, depth - 1),
                _ => FunctionTier::BeforeTables,
            }
        };
        tier = tier.max(here);
    }
    tier
}

impl<'a> Gen<'a> {
    /// Views dropped: gone, changed in any way but their comment, or depending on
    /// something that changes under them (a table whose columns are dropped or retyped, a
    /// function dropped, a view dropped); the ones still wanted are created again.
    pub(super) fn views_to_drop(&self) -> Vec<&'a View> {
        self.dropped().0
    }

    /// Keys (`schema.name`) of the views [`Self::views_to_drop`] drops.
    pub(super) fn dropped_view_keys(&self) -> BTreeSet<String> {
        self.views_to_drop().iter().map(|v| view_key(v)).collect()
    }

    /// The views and functions dropped, found together since each can hold on to the
    /// other: first what changes by itself (a view's query, a function's result or
    /// kind, a function over a recreated enum), then, until nothing more is found,
    /// everything depending on something dropped, retyped or recreated (a table, a
    /// column, an enum, a view, a function). Functions come in the order they are found,
    /// so the ones found later depend on earlier ones.
    fn dropped(&self) -> (Vec<&'a View>, Vec<&'a Function>) {
        self.dropped.get_or_init(|| self.find_dropped()).clone()
    }

    fn find_dropped(&self) -> (Vec<&'a View>, Vec<&'a Function>) {
        let (from, to) = (self.from, self.to);
        let mut changing = self.changing_under_views_and_functions();
        let mut functions: Vec<&'a Function> = from
            .functions
            .iter()
            .filter(|(key, f)| match to.functions.get(*key) {
                None => true,
                Some(new) => new.result != f.result || new.kind != f.kind,
            })
            .map(|(_, f)| f)
            .collect();
        changing.extend(functions.iter().map(|f| function_key(f)));
        let mut views: Vec<&'a View> = Vec::new();
        loop {
            let more_views: Vec<&'a View> = from
                .views
                .iter()
                .filter(|(key, _)| !changing.contains(*key))
                .filter(|(key, v)| match to.views.get(*key) {
                    None => true,
                    Some(new) => {
                        new.definition != v.definition
                            || new.materialized != v.materialized
                            || new.populated != v.populated
                            || v.depends_on.iter().any(|d| changing.contains(d))
                    }
                })
                .map(|(_, v)| v)
                .collect();
            let more_functions: Vec<&'a Function> = from
                .functions
                .iter()
                .filter(|(key, f)| {
                    !changing.contains(*key) && f.depends_on.iter().any(|d| changing.contains(d))
                })
                .map(|(_, f)| f)
                .collect();
            if more_views.is_empty() && more_functions.is_empty() {
                return (views, functions);
            }
            for v in more_views {
                changing.insert(view_key(v));
                views.push(v);
            }
            for f in more_functions {
                changing.insert(function_key(f));
                functions.push(f);
            }
        }
    }

    /// What changes under the views and functions that use it, in `pg_depend`'s keys:
    /// tables dropped, columns dropped or retyped, enums recreated.
    pub(super) fn changing_under_views_and_functions(&self) -> BTreeSet<String> {
        let (from, to) = (self.from, self.to);
        let mut changing: BTreeSet<String> = BTreeSet::new();
        for (key, t) in &from.tables {
            let Some(new) = to.tables.get(key) else {
                changing.insert(key.clone());
                continue;
            };
            for c in &t.columns {
                let altered = new
                    .column(&c.name)
                    .is_none_or(|n| n.generated != c.generated || retyped(c, n));
                if altered {
                    changing.insert(format!("{key}.{}", c.name));
                }
            }
            for c in regenerated_columns(t, new) {
                changing.insert(format!("{key}.{}", c.name));
            }
        }
        changing.extend(self.enum_dependents());
        changing
    }

    /// Functions dropped ([`Self::dropped`]), in the order they can be: the ones found
    /// later, which depend on earlier ones, first; aggregates before the functions they
    /// are built on.
    fn functions_to_drop(&self) -> Vec<&'a Function> {
        let mut functions = self.dropped().1;
        functions.reverse();
        functions.sort_by_key(|f| f.kind != RoutineKind::Aggregate);
        functions
    }

    /// Keys (`schema.name(arguments)`) of the functions [`Self::functions_to_drop`] drops.
    pub(super) fn dropped_function_keys(&self) -> BTreeSet<String> {
        self.functions_to_drop()
            .iter()
            .map(|f| function_key(f))
            .collect()
    }

    /// Drops the functions of `functions_to_drop` that `which(tier, created again)` picks.
    pub(super) fn drop_functions(&mut self, which: impl Fn(FunctionTier, bool) -> bool) {
        for f in self.functions_to_drop() {
            let again = self.to.functions.contains_key(&function_key(f));
            if which(function_tier(self.from, f), again) {
                self.out.push(format!(
                    "DROP {} IF EXISTS {};",
                    function_keyword(f),
                    function_signature(f)
                ));
            }
        }
    }

    /// The views dropped, each before the views it depends on.
    pub(super) fn drop_views(&mut self) {
        let views = self.views_to_drop();
        for v in view_order(&views).into_iter().rev() {
            self.out.push(format!(
                "DROP {} IF EXISTS {};",
                view_keyword(v),
                qualified(&v.schema, &v.name)
            ));
        }
    }

    /// Creates or replaces the functions of `to` in `tier` that are new or changed.
    pub(super) fn create_functions(&mut self, tier: FunctionTier) {
        let (from, to) = (self.from, self.to);
        let dropped_functions = self.dropped_function_keys();
        let mut functions: Vec<(&String, &Function)> = to.functions.iter().collect();
        // Aggregates after the functions they are built on.
        functions.sort_by_key(|(_, f)| f.kind == RoutineKind::Aggregate);
        for (key, f) in functions {
            if function_tier(to, f) != tier {
                continue;
            }
            let old = from
                .functions
                .get(key)
                .filter(|_| !dropped_functions.contains(key));
            let Some(definition) = &f.definition else {
                if old.is_none_or(|o| o != f) {
                    self.out.skipped.push(format!(
                        "{} {}: not a plain function or procedure",
                        f.kind,
                        function_signature(f)
                    ));
                }
                continue;
            };
            let mut same = old.cloned();
            if let Some(same) = &mut same {
                same.comment = f.comment.clone();
                same.grants = f.grants.clone();
            }
            if same.as_ref() != Some(f) {
                self.sql_bodies |= f.language == "sql" && !f.body.trim().is_empty();
                self.out
                    .push(format!("{};", definition.trim_end().trim_end_matches(';')));
            }
            if old.and_then(|o| o.comment.clone()) != f.comment {
                self.out.push(format!(
                    "COMMENT ON {} {} IS {};",
                    function_keyword(f),
                    function_signature(f),
                    comment_value(&f.comment)
                ));
            }
        }
    }

    /// The views of `to` that are new or were dropped (`dropped`), each after the views
    /// it depends on.
    pub(super) fn create_views(&mut self, dropped: &BTreeSet<String>) {
        let (from, to) = (self.from, self.to);
        let created: Vec<&View> = to
            .views
            .iter()
            .filter(|(key, _)| !from.views.contains_key(*key) || dropped.contains(*key))
            .map(|(_, v)| v)
            .collect();
        for v in view_order(&created) {
            let query = v.definition.trim_end().trim_end_matches(';');
            let data = match (v.materialized, v.populated) {
                (true, true) => "\n  WITH DATA",
                (true, false) => "\n  WITH NO DATA",
                _ => "",
            };
            self.out.push(format!(
                "CREATE {} {} AS\n{query}{data};",
                view_keyword(v),
                qualified(&v.schema, &v.name)
            ));
        }
    }

    /// Each view's comment and triggers, once the functions the triggers call exist (a
    /// view dropped and created again starts bare).
    pub(super) fn comment_views_and_create_their_triggers(&mut self, dropped: &BTreeSet<String>) {
        let (from, to) = (self.from, self.to);
        for (key, v) in &to.views {
            let old = from.views.get(key).filter(|_| !dropped.contains(key));
            if old.and_then(|o| o.comment.clone()) != v.comment
                && (v.comment.is_some() || old.is_some())
            {
                self.out.push(format!(
                    "COMMENT ON {} {} IS {};",
                    view_keyword(v),
                    qualified(&v.schema, &v.name),
                    comment_value(&v.comment)
                ));
            }
            self.create_triggers(
                &qualified(&v.schema, &v.name),
                old.map(|o| &o.triggers),
                &v.triggers,
            );
        }
    }
}
