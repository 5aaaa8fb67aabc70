//! Comparing domains (with their constraints), composite types (with their attributes),
//! range types and extended statistics.

use std::collections::BTreeMap;

use super::{Aspects, Differences, ObjectKind};
use crate::catalog::{Attribute, Catalog, Composite, Domain, DomainConstraint, Range, Statistics};

fn domain(a: &mut Aspects, e: &Domain, b: &Domain) {
    a.field("base type", &e.base_type, &b.base_type);
    a.field("default", &e.default, &b.default);
    a.field("not null", &e.not_null, &b.not_null);
    a.field("collation", &e.collation, &b.collation);
    a.field("comment", &e.comment, &b.comment);
}

fn domain_constraint(a: &mut Aspects, e: &DomainConstraint, b: &DomainConstraint) {
    a.field("definition", &e.definition, &b.definition);
    a.field("comment", &e.comment, &b.comment);
}

fn composite(a: &mut Aspects, e: &Composite, b: &Composite) {
    // Attributes added, dropped or changed are their own differences; the order is the
    // type's when both have the same ones.
    let names =
        |c: &Composite| -> Vec<String> { c.attributes.iter().map(|a| a.name.clone()).collect() };
    let (mut sorted_e, mut sorted_b) = (names(e), names(b));
    sorted_e.sort();
    sorted_b.sort();
    if sorted_e == sorted_b {
        a.field("attribute order", &names(e), &names(b));
    }
    a.field("comment", &e.comment, &b.comment);
}

fn attribute(a: &mut Aspects, e: &Attribute, b: &Attribute) {
    a.field("type", &e.data_type, &b.data_type);
    a.field("collation", &e.collation, &b.collation);
    a.field("comment", &e.comment, &b.comment);
}

fn range(a: &mut Aspects, e: &Range, b: &Range) {
    a.field("definition", &e.definition, &b.definition);
    a.field("comment", &e.comment, &b.comment);
}

fn statistics(a: &mut Aspects, e: &Statistics, b: &Statistics) {
    a.field("definition", &e.definition, &b.definition);
    a.field("statistics target", &e.target, &b.target);
    a.field("comment", &e.comment, &b.comment);
}

impl Differences {
    /// Domains and their constraints, composite types and their attributes, range types.
    pub(super) fn user_types(&mut self, expected: &Catalog, actual: &Catalog) {
        self.maps(
            &expected.domains,
            &actual.domains,
            |_| ObjectKind::Domain,
            domain,
        );
        for (key, e) in &expected.domains {
            if let Some(b) = actual.domains.get(key) {
                self.maps_under(
                    key,
                    &e.constraints,
                    &b.constraints,
                    ObjectKind::DomainConstraint,
                    domain_constraint,
                );
            }
        }
        self.maps(
            &expected.composites,
            &actual.composites,
            |_| ObjectKind::CompositeType,
            composite,
        );
        let by_name = |c: &Composite| -> BTreeMap<String, Attribute> {
            c.attributes
                .iter()
                .map(|a| (a.name.clone(), a.clone()))
                .collect()
        };
        for (key, e) in &expected.composites {
            if let Some(b) = actual.composites.get(key) {
                self.maps_under(
                    key,
                    &by_name(e),
                    &by_name(b),
                    ObjectKind::Attribute,
                    attribute,
                );
            }
        }
        self.maps(
            &expected.ranges,
            &actual.ranges,
            |_| ObjectKind::RangeType,
            range,
        );
    }

    pub(super) fn statistics(&mut self, expected: &Catalog, actual: &Catalog) {
        self.maps(
            &expected.statistics,
            &actual.statistics,
            |_| ObjectKind::Statistics,
            statistics,
        );
    }
}
