//! The order of the statements: drops first, in reverse dependency order, then creates
//! and alterations in dependency order, then the drops that must wait for the creates.
//! Each step is a method of the file that decides what it writes; this file decides only
//! when it runs.

use super::Gen;
use super::views::FunctionTier;

impl Gen<'_> {
    /// Everything dropped before the creates, what depends on something first.
    pub(super) fn drops(&mut self) {
        // Before the functions, columns, tables and views they use.
        self.drop_event_triggers_policies_and_rules();
        self.drop_triggers_of_kept();
        // Functions whose types or bodies name a view, before their views.
        self.drop_functions(|tier, _| tier == FunctionTier::AfterViews);
        self.drop_views();
        // Functions that name tables, before the tables; functions created again under
        // the same name, before they are.
        self.drop_functions(|tier, again| {
            tier == FunctionTier::AfterTables || (again && tier != FunctionTier::AfterViews)
        });
        // Foreign keys before the indexes they lean on, the other constraints after.
        self.drop_constraints(true);
        self.drop_indexes();
        self.drop_statistics();
        self.drop_constraints(false);
        self.drop_columns();
        self.drop_tables();
    }

    /// Everything created or altered, what something depends on first.
    pub(super) fn creates(&mut self) {
        self.create_schemas();
        self.create_extensions();
        self.comment_extensions();
        self.create_enums();
        // Domains, composite and range types, before the tables and functions using them.
        self.create_user_types(false);
        self.create_sequences();
        self.create_functions(FunctionTier::BeforeTables);
        // Domains whose checks or default call those functions.
        self.create_user_types(true);
        self.create_tables();
        // Sequences owned by a column, now that the columns exist.
        self.own_sequences();
        // Foreign keys after the unique indexes (and constraints) they lean on.
        self.create_constraints(false);
        self.create_indexes(false, &Default::default());
        self.create_constraints(true);
        self.create_functions(FunctionTier::AfterTables);
        let dropped_views = self.dropped_view_keys();
        self.create_views(&dropped_views);
        // Indexes on materialized views, now that the views exist.
        self.create_indexes(true, &dropped_views);
        self.create_statistics(&dropped_views);
        self.create_functions(FunctionTier::AfterViews);
        self.comment_views_and_create_their_triggers(&dropped_views);
        self.create_table_triggers();
        // Once the functions, columns, tables and views they use exist.
        self.secure_tables();
        self.create_rules();
        self.create_event_triggers();
        self.grants();
        // After the grants, so that what the script creates does not get them.
        self.default_privileges();
    }

    /// Drops that must wait for the creates: a function, a sequence or a type can still be
    /// a kept column's default or type until `alter_table` has changed it.
    pub(super) fn late_drops(&mut self) {
        // Domains whose checks or default call the functions dropped next.
        self.drop_user_types(true);
        self.drop_functions(|tier, again| tier == FunctionTier::BeforeTables && !again);
        // Domains, composite and range types may be built on enums.
        self.drop_user_types(false);
        self.drop_enums();
        self.drop_sequences();
        self.drop_extensions();
        // Schemas last: a sequence dropped above may be in one.
        self.drop_schemas();
    }
}
