"""The OpenAPI 3.1 document of the ORUK API: the endpoints, parameters and response schemas
this server has (the profile's official JSON Schemas by URL), and nothing it does not have."""

from __future__ import annotations

from typing import Any

from .params import DEFAULT_PER_PAGE, MAX_PER_PAGE, SERVICE_FILTERS

VERSION = "HSDS-UK-3.0"
PROFILE_URL = "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md"
SCHEMAS = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"
RESPONSE_SCHEMAS = {
    "service": SCHEMAS + "compiled/service.json",
    "service_list": SCHEMAS + "compiled/service_list.json",
    "service_at_location": SCHEMAS + "compiled/service_at_location.json",
    "service_at_location_list": SCHEMAS + "compiled/service_at_location_list.json",
    "taxonomy": SCHEMAS + "taxonomy.json",
    "taxonomy_term": SCHEMAS + "taxonomy_term.json",
}

PARAMETERS: dict[str, dict[str, Any]] = {
    "page": {"description": "Page number (1-based).", "schema": {"type": "integer", "minimum": 1,
                                                                  "default": 1}},
    "per_page": {"description": "Items per page.", "schema": {"type": "integer", "minimum": 1,
                                                              "maximum": MAX_PER_PAGE,
                                                              "default": DEFAULT_PER_PAGE}},
    "search": {"description": "Words that must all appear (case-insensitive) in the service's name "
                              "or description.", "schema": {"type": "string"}},
    "taxonomy_term_id": {"description": "Services with an attribute of this taxonomy term or of a "
                                        "narrower term (SEND needs, provision categories, ...).",
                         "schema": {"type": "string"}},
    "taxonomy_id": {"description": "Services with an attribute of any term of this taxonomy.",
                    "schema": {"type": "string"}},
    "organization_id": {"description": "Services this organization provides.",
                        "schema": {"type": "string"}},
    "modified_after": {"description": "Services whose last_modified is on or after this date or "
                                      "date-time (UTC when no offset is given).",
                       "schema": {"type": "string", "format": "date-time"}},
    "minimum_age": {"description": "Services with a minimum_age of at least this value.",
                    "schema": {"type": "number", "minimum": 0}},
    "maximum_age": {"description": "Services with a maximum_age of at most this value.",
                    "schema": {"type": "number", "minimum": 0}},
    "postcode": {"description": "A UK postcode. Alone: services at a location with this postcode. "
                                "With proximity: services at a location within proximity metres of "
                                "the postcode's position (from an Ordnance Survey postcode unit in "
                                "the store, else the places in the data with that postcode; no "
                                "results when neither knows it).", "schema": {"type": "string"}},
    "proximity": {"description": "Distance in metres from postcode (needs postcode).",
                  "schema": {"type": "number", "exclusiveMinimum": 0}},
    "day": {"description": "Services with a schedule on this day (MO..SU or Monday..Sunday).",
            "schema": {"type": "string"}},
    "start_time": {"description": "Services with a schedule that opens at or after this time (hh:mm).",
                   "schema": {"type": "string", "format": "time"}},
    "end_time": {"description": "Services with a schedule that closes at or before this time (hh:mm); "
                                "day, start_time and end_time apply to the same schedule.",
                 "schema": {"type": "string", "format": "time"}},
}
PAGE = {"type": "object", "required": ["total_items", "total_pages", "page_number", "size",
                                       "first_page", "last_page", "empty", "contents"],
        "properties": {"total_items": {"type": "integer"}, "total_pages": {"type": "integer"},
                       "page_number": {"type": "integer"}, "size": {"type": "integer"},
                       "first_page": {"type": "boolean"}, "last_page": {"type": "boolean"},
                       "empty": {"type": "boolean"}, "contents": {"type": "array"}}}
ERROR = {"type": "object", "required": ["status", "error", "message"],
         "properties": {"status": {"type": "integer"}, "error": {"type": "string"},
                        "message": {"type": "string"},
                        "parameter": {"type": "string", "description": "The parameter at fault (400)."}}}

# path -> (operationId, summary, query parameters, response schema key, paged)
ENDPOINTS: dict[str, tuple[str, str, tuple[str, ...], str | None, bool]] = {
    "/": ("getAPIMetaInformation", "The version and profile of this API", (), None, False),
    "/services": ("getPaginatedListOfServices", "Services (one-to-one fields and organization)",
                  ("page", "per_page", *SERVICE_FILTERS), "service_list", True),
    "/services/{id}": ("getFullyNestedServiceById", "A fully nested service", (), "service", False),
    "/service_at_locations": ("getPaginatedListOfServiceAtLocation",
                              "Service at locations with their location and service",
                              ("page", "per_page", *SERVICE_FILTERS), "service_at_location_list", True),
    "/service_at_locations/{id}": ("getServiceAtLocationWithNestedDataById",
                                   "A fully nested service_at_location", (), "service_at_location", False),
    "/taxonomies": ("getPaginatedListOfTaxonomies", "Taxonomies, SEND concept schemes included",
                    ("page", "per_page"), "taxonomy", True),
    "/taxonomies/{id}": ("getTaxonomyById", "A taxonomy with its terms", (), "taxonomy", False),
    "/taxonomy_terms": ("getPaginatedListOfTaxonomyTerms", "Taxonomy terms, SEND concepts included",
                        ("page", "per_page"), "taxonomy_term", True),
    "/taxonomy_terms/{id}": ("getTaxonomyTermById", "A taxonomy term", (), "taxonomy_term", False),
    "/openapi.json": ("getOpenAPI", "This document", (), None, False),
}


def _operation(path: str) -> dict[str, Any]:
    op_id, summary, params, schema, paged = ENDPOINTS[path]
    if schema is None and path == "/":
        body: dict[str, Any] = {"type": "object", "required": ["version", "profile", "openapi_url"],
                                "properties": {"version": {"type": "string", "const": VERSION},
                                               "profile": {"type": "string", "format": "uri"},
                                               "openapi_url": {"type": "string", "format": "uri"}}}
    elif schema is None:
        body = {"type": "object", "description": "An OpenAPI 3.1 document"}
    elif paged:
        body = {"allOf": [{"$ref": "#/components/schemas/Page"}],
                "properties": {"contents": {"type": "array", "items": {"$ref": RESPONSE_SCHEMAS[schema]}}}}
    else:
        body = {"$ref": RESPONSE_SCHEMAS[schema]}
    responses: dict[str, Any] = {"200": {"description": summary,
                                         "content": {"application/json": {"schema": body}}}}
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if params:
        responses["400"] = {"description": "A parameter is malformed; `parameter` names it", **error}
    if "{id}" in path:
        responses["404"] = {"description": "No record has this id", **error}
    parameters: list[dict[str, Any]] = [{"$ref": f"#/components/parameters/{p}"} for p in params]
    if "{id}" in path:
        parameters.insert(0, {"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
                              "description": "The record's id (its source id, a UUID)."})
    op: dict[str, Any] = {"operationId": op_id, "summary": summary, "responses": responses}
    if parameters:
        op["parameters"] = parameters
    return {"get": op}


def document(server: str, *, publish_names: bool = False) -> dict[str, Any]:
    """The OpenAPI document for the API served at *server* (its absolute base URL); whether
    names of people are served follows *publish_names* (the publish_contact_names setting)."""
    people = ("Contact names and address attention are served as the sources give them." if publish_names
              else "Contact names and address attention (names of people) are withheld: this site does "
                   "not publish personal data.")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Local Offer directory: Open Referral UK API", "version": "3.0",
                 "description": "The SEND Local Offer services of this site as an Open Referral UK "
                                "(HSDS-UK-3.0) API, generated from its Linked Data. SEND needs, "
                                "provision categories and the other Local Offer concept schemes are "
                                "taxonomies, linked to services through attributes. Lists are in "
                                "a stable order: by the records' IRIs, which for UUID ids is the "
                                "order of the (lower-case) ids. The profile's legacy ORUK v1 fields "
                                "(service_areas[].service_area, accessibility[].accessibility, "
                                "taxonomy_term.term) are served as the source gave them, else as "
                                "the name (or description) they repeat in v1. " + people +
                                " A service's assurer_email is never served.",
                 "license": {"name": "Creative Commons Attribution Share-Alike 4.0 (the profile)",
                             "url": "https://creativecommons.org/licenses/by-sa/4.0/"}},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{"url": server}],
        "paths": {path: _operation(path) for path in ENDPOINTS},
        "components": {
            "schemas": {"Page": PAGE, "Error": ERROR},
            "parameters": {name: {"name": name, "in": "query", "required": False, **spec}
                           for name, spec in PARAMETERS.items()},
        },
    }
