'use strict';
// Medplum's MemoryRepository, with searches on a reference parameter (Observation?patient=X)
// looking only at the resources that can match, instead of evaluating the parameter's FHIRPath
// on every resource of the type (about 1 ms a resource: 100-600 ms a search over the fixtures,
// most of the integration tests' time).
//
// Answers stay the parent's, byte for byte: the parent's own searchSync runs, over a view whose
// only difference is fewer resources of the searched type, in the parent's order; it still
// checks every filter on each of them, so the index need only hold every resource that can match.
// The index keys are the exact references the parent's matcher compares, so no rule of its is
// copied here beyond the one fact used: a reference that equals a value, or ends with '/' + a
// value without '/', has the value's last path segment as its own.
//
// MemoryRepository replaces a stored resource with a new object on every write and never
// changes one in place, so an index is current while its type holds the very objects it was
// built from, in the same order; the check is a walk of pointers, and a stale index is rebuilt.
const {
  Operator,
  convertToSearchableReferences,
  evalFhirPathTyped,
  globalSchema,
  parseFhirPath,
  splitSearchOnComma,
  toTypedValue,
} = require('@medplum/core');
const { MemoryRepository } = require('@medplum/fhir-router');

// The parent's members this relies on: fail at start-up, not with wrong answers, if they change.
if (typeof MemoryRepository.prototype.searchSync !== 'function') {
  throw new Error('@medplum/fhir-router: MemoryRepository.searchSync is gone; update indexed-repository.js');
}

function lastSegment(reference) {
  return reference.slice(reference.lastIndexOf('/') + 1);
}

class IndexedRepository extends MemoryRepository {
  #indexes = new Map(); // "Type?code" -> { resources: Resource[], byKey: Map<string, Resource[]> }

  constructor() {
    super();
    if (!(this.resources instanceof Map)) {
      throw new Error('@medplum/fhir-router: MemoryRepository.resources is gone; update indexed-repository.js');
    }
  }

  searchSync(searchRequest) {
    const candidates = this.#candidates(searchRequest);
    if (!candidates) return super.searchSync(searchRequest);
    const resources = new Map(this.resources);
    resources.set(searchRequest.resourceType, new Map(candidates.map((r) => [r.id, r])));
    return super.searchSync.call(Object.create(this, { resources: { value: resources } }), searchRequest);
  }

  // The resources of the type that can match the request's first indexable filter, in stored
  // order; undefined when no filter narrows the search safely (then every resource is looked at).
  #candidates({ resourceType, filters }) {
    // A chained filter (`subject:Patient.name`) reads other resources through this.resources.
    if (!filters || filters.some((f) => f.code.includes('.'))) return undefined;
    for (const filter of filters) {
      const param = globalSchema.types[resourceType]?.searchParams?.[filter.code];
      if (param?.type !== 'reference' || filter.operator !== Operator.EQUALS) continue;
      const values = splitSearchOnComma(filter.value);
      // An empty value matches resources with no reference at all: not in any bucket.
      if (values.length === 0 || values.includes('')) continue;
      const index = this.#index(resourceType, param);
      if (!index) return undefined;
      const found = new Set(values.flatMap((v) => index.byKey.get(lastSegment(v)) ?? []));
      return values.length === 1 ? [...found] : index.resources.filter((r) => found.has(r));
    }
    return undefined;
  }

  #index(resourceType, param) {
    const stored = [...(this.resources.get(resourceType)?.values() ?? [])];
    const name = `${resourceType}?${param.code}`;
    const cached = this.#indexes.get(name);
    if (cached && cached.resources.length === stored.length && cached.resources.every((r, i) => r === stored[i])) {
      return cached;
    }
    const byKey = new Map();
    try {
      const expression = parseFhirPath(param.expression);
      for (const resource of stored) {
        const typed = evalFhirPathTyped(expression, [toTypedValue(resource)]);
        const keys = new Set(
          convertToSearchableReferences(typed)
            .filter((ref) => typeof ref === 'string')
            .map(lastSegment),
        );
        for (const key of keys) {
          if (!byKey.has(key)) byKey.set(key, []);
          byKey.get(key).push(resource);
        }
      }
    } catch {
      this.#indexes.delete(name);
      return undefined; // the parent's scan meets the same resource and answers as it always has
    }
    const index = { resources: stored, byKey };
    this.#indexes.set(name, index);
    return index;
  }
}

module.exports = { IndexedRepository };
