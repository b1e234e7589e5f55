"""Pure consent rules: hashing, drawn signatures, names."""

import pytest

from facilitation.consent import rules
from tests.consent.signatures import png, signed


def test_hash_is_sha256_of_the_exact_text():
    assert (
        rules.text_sha256("abc")
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert rules.text_sha256("Consent.") != rules.text_sha256("Consent. ")


def test_a_real_signature_is_accepted():
    ink = rules.check_signature_image(signed())
    assert ink.pixels > rules.MIN_INK_PIXELS and ink.bbox_width >= 200


@pytest.mark.parametrize(
    "image, code",
    [
        (png(), "empty_signature"),
        (png(strokes=[(10, 10, 14, 14)]), "signature_too_small"),
        (png(strokes=[(10, 10, 40, 60)]), "signature_too_small"),
        (b"GIF89a not a png", "not_png"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "bad_image"),
        (b"\x89PNG\r\n\x1a\n" + b"x" * (rules.MAX_SIGNATURE_BYTES + 1), "too_large"),
    ],
)
def test_bad_signatures_are_refused_with_a_reason(image, code):
    with pytest.raises(rules.SignatureImageError) as err:
        rules.check_signature_image(image)
    assert err.value.code == code


@pytest.mark.parametrize(
    "typed, account, ok",
    [
        ("Sam Rivers", "Sam Rivers", True),
        ("sam rivers", "Sam Rivers", True),
        ("Rivers Sam", "Sam Rivers", True),
        ("José Núñez", "Jose Nunez", True),
        ("Sam Rivres", "Sam Rivers", True),
        ("Alex Moreno", "Sam Rivers", False),
        ("", "Sam Rivers", False),
    ],
)
def test_name_matching_tolerates_case_accents_order_and_typos(typed, account, ok):
    assert rules.names_match(typed, account) is ok


def test_partner_preferences():
    assert all(rules.valid_preference(p) for p in ("any", "same_gender", "role:listener"))
    assert not any(rules.valid_preference(p) for p in ("anyone", "role:", "role:" + "x" * 41))


def _saved(image, **options) -> bytes:
    import io

    out = io.BytesIO()
    image.save(out, format="PNG", **options)
    return out.getvalue()


def test_any_png_a_browser_makes_is_read_grey_palette_and_interlaced_too():
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (400, 150), 255)
    ImageDraw.Draw(canvas).rectangle((40, 60, 300, 80), fill=0)
    for image in (canvas, canvas.convert("P"), canvas.convert("RGB")):
        ink = rules.check_signature_image(_saved(image, interlace=1))
        assert (ink.bbox_width, ink.bbox_height, ink.pixels) == (261, 21, 261 * 21)


def test_a_huge_image_in_a_small_file_is_refused_before_it_is_decoded():
    from PIL import Image

    for size in ((3000, 3000), (20_000, 20_000)):  # 9 and 400 million pixels, a few KB
        bomb = _saved(Image.new("1", size))
        assert len(bomb) < rules.MAX_SIGNATURE_BYTES
        with pytest.raises(rules.SignatureImageError) as err:
            rules.signature_ink(bomb)
        assert err.value.code == "bad_image"


def test_a_truncated_png_is_damaged():
    with pytest.raises(rules.SignatureImageError) as err:
        rules.signature_ink(signed()[:200])
    assert err.value.code == "bad_image"
