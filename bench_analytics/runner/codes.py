"""Medical billing knowledge shared by the case generator and the baseline heuristic."""

from __future__ import annotations

import re

# CPT code -> (description, typical billed amount in USD)
PROCEDURES: dict[str, tuple[str, float]] = {
    "99213": ("Office visit, established patient, low complexity", 150.0),
    "99214": ("Office visit, established patient, moderate complexity", 220.0),
    "99215": ("Office visit, established patient, high complexity", 310.0),
    "80053": ("Comprehensive metabolic panel", 45.0),
    "85025": ("Complete blood count with differential", 35.0),
    "36415": ("Routine venipuncture", 25.0),
    "71046": ("Chest X-ray, two views", 120.0),
    "93000": ("Electrocardiogram, complete", 85.0),
    "73721": ("MRI lower extremity joint without contrast", 1200.0),
    "97110": ("Therapeutic exercise, each 15 minutes", 75.0),
    "45378": ("Diagnostic colonoscopy", 1100.0),
    "76805": ("Obstetric ultrasound, single gestation", 285.0),
    "59400": ("Routine obstetric care including delivery", 2900.0),
    "77067": ("Screening mammography, bilateral", 210.0),
    "88175": ("Cervical cytology screening", 60.0),
    "84153": ("Prostate specific antigen, total", 55.0),
    "55700": ("Prostate needle biopsy", 900.0),
    "90700": ("DTaP vaccine, younger than 7 years", 40.0),
    "90633": ("Hepatitis A vaccine, pediatric dose", 65.0),
    "99381": ("Preventive visit, new patient, younger than 1 year", 180.0),
}
COMMON = ("99213", "99214", "80053", "85025", "36415", "71046", "93000", "97110")
FEMALE_ONLY = frozenset({"76805", "59400", "77067", "88175"})
MALE_ONLY = frozenset({"84153", "55700"})
# pediatric-only codes and the oldest age they apply to
PEDIATRIC_MAX_AGE: dict[str, int] = {"90700": 6, "90633": 18, "99381": 0}

# drug pairs whose combination a reviewer flags (needs domain knowledge)
INTERACTIONS: tuple[tuple[str, str, str], ...] = (
    ("Warfarin 5 mg daily", "Ibuprofen 600 mg three times daily", "bleeding risk"),
    ("Lisinopril 20 mg daily", "Potassium chloride 20 mEq daily", "hyperkalemia risk"),
    ("Sertraline 100 mg daily", "Tramadol 50 mg as needed", "serotonin syndrome risk"),
    ("Simvastatin 40 mg daily", "Clarithromycin 500 mg twice daily", "myopathy risk"),
)
OTHER_MEDICATIONS = (
    "Metformin 500 mg twice daily",
    "Atorvastatin 20 mg daily",
    "Levothyroxine 75 mcg daily",
    "Amlodipine 5 mg daily",
    "Omeprazole 20 mg daily",
    "Albuterol inhaler as needed",
)
CONDITIONS = (
    "Hypertension",
    "Type 2 diabetes",
    "Hyperlipidemia",
    "Asthma",
    "Hypothyroidism",
    "Osteoarthritis",
    "GERD",
    "Atrial fibrillation",
    "Chronic kidney disease stage 3",
)

# canonical issue type -> (category, needs domain knowledge, word patterns a free-text type
# may use; each pattern must start at a word boundary)
ISSUE_TYPES: dict[str, tuple[str, bool, tuple[str, ...]]] = {
    "duplicate_charge": ("billing", False, ("duplicat", "double", "billed twice", "repeated")),
    "excessive_charge": ("billing", False, ("excessive", "overcharg", "above market", "inflated")),
    "upcoding": ("billing", True, ("upcod", "coding error", "level of service", "overcod")),
    "gender_mismatch": ("clinical", True, ("gender", r"sex\b", "anatomic")),
    "age_inappropriate": ("clinical", True, (r"age\b", "pediatric", "geriatric", "age related")),
    "drug_interaction": ("clinical", True, ("interaction", "contraindicat", "drug drug")),
    "temporal_violation": ("billing", False, ("temporal", "before birth", "timeline")),
}
_PATTERNS = {
    name: re.compile("|".join(rf"\b{word}" for word in words))
    for name, (_, _, words) in ISSUE_TYPES.items()
}


def canonical_issue_type(text: str | None) -> str:
    """Map any free-text issue type onto a canonical one ('other' when nothing fits)."""
    if not text:
        return "other"
    words = re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
    key = words.replace(" ", "_")
    if key in ISSUE_TYPES:
        return key
    for name, pattern in _PATTERNS.items():
        if pattern.search(words):
            return name
    return "other"
