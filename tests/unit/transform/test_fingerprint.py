from transform.fingerprint import NUM_PERM, Fingerprint, band_keys, fingerprint, similarity

BASE = (
    "Russian Foreign Minister Sergey Lavrov has proposed dates for holding a meeting with US Secretary of "
    "State Antony Blinken, late next week, who accepted it if Russia does not invade Ukraine, local media "
    "reported. Taking to Twitter, State Department's Spokesperson Ned Price said that the Russians have "
    "responded with proposed dates for late next week, which we are accepting, provided there is no further "
    "Russian invasion of Ukraine. He stated that if Russia does invade in the coming days, it will make "
    "clear they were never serious about diplomacy. Tensions over Ukraine have increased in recent months, "
    "with Russia and NATO accusing each other of amassing troops on the Russian-Ukrainian border."
)
OTHER = (
    "The central bank raised its benchmark interest rate by a quarter of a percentage point on Wednesday, "
    "citing persistent inflation in services and a labour market that remains tight. Markets had largely "
    "expected the move, and bond yields were little changed after the announcement. The governor said "
    "further increases could not be ruled out if wage growth failed to slow over the coming quarter."
)


def test_identical_text_is_identical() -> None:
    assert fingerprint(BASE) == fingerprint(BASE)
    assert similarity(fingerprint(BASE), fingerprint(BASE)) == 1.0


def test_case_and_punctuation_do_not_matter() -> None:
    assert similarity(fingerprint(BASE), fingerprint(BASE.upper().replace(",", ""))) == 1.0


def test_unrelated_text_is_dissimilar() -> None:
    assert similarity(fingerprint(BASE), fingerprint(OTHER)) < 0.2


def test_teaser_matches_through_the_lead() -> None:
    teaser = " ".join(BASE.split()[:35]) + " …"
    assert similarity(fingerprint(BASE), fingerprint(teaser)) >= 0.8


def test_small_edits_stay_similar() -> None:
    edited = BASE.replace("said", "told reporters").replace("recent months", "recent weeks")
    assert similarity(fingerprint(BASE), fingerprint(edited)) >= 0.5


def test_empty_and_tiny_texts() -> None:
    empty = fingerprint("")
    assert empty.empty
    assert band_keys(empty) == []
    assert similarity(empty, empty) == 0.0
    tiny = fingerprint("Hello world")
    assert not tiny.empty
    assert similarity(tiny, fingerprint("Hello there world")) < 1.0


def test_serialisation_round_trip_and_hex() -> None:
    fp = fingerprint(BASE)
    assert Fingerprint.from_bytes(fp.to_bytes()) == fp
    assert len(fp.hex()) == NUM_PERM * 2
    assert fp.hex() != fingerprint(OTHER).hex()


def test_near_duplicates_share_a_band_key() -> None:
    edited = BASE.replace("recent months", "recent weeks")
    assert set(band_keys(fingerprint(BASE))) & set(band_keys(fingerprint(edited)))
