"""The case record as an HL7 FHIR R4 Bundle: a pure mapping from entries to plain JSON-ready dicts.

The mapping table, the code systems (standard and local) and what is not mapped yet are in docs/fhir.md.
"""

from service.interop.fhir.bundle import FHIR_JSON, case_bundle

__all__ = ["FHIR_JSON", "case_bundle"]
