"""A photo of the meter with a reading, sent as the GraphQL multipart request specification
describes it (the way Apollo's and urql's upload links send files): stored re-encoded
without metadata, refused when it is no image or too large, never without CSRF proof,
and with the request limits in force."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
from PIL import Image

from documents.store import open_store, read
from models import MeterPhoto, MeterReading
from tests.factories import PASSWORD, TODAY, logged_in, make_household
from tests.test_meter_photo_images import GPS_IFD, jpeg_with_gps

SUBMIT = """
mutation Submit($input: SubmitReadingInput!) {
  submitReading(input: $input) { reading { value } errors { code field message } }
}
"""
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: { email: $email, password: $password }) { csrfToken }
}
"""
EXPORT = "{ myDataExport }"
DELETE = """
mutation Delete($current: String) {
  deleteProfile(input: { currentPassword: $current }) { errors { code } }
}
"""


async def upload(
    client: httpx.AsyncClient,
    variables: dict[str, Any],
    file: tuple[str, bytes, str],
    *,
    path: str = "variables.input.photo",
    headers: dict[str, str] | None = None,
    query: str = SUBMIT,
) -> httpx.Response:
    """One operation with one file, as an upload link sends it: operations, map, the file."""
    operations = {"query": query, "variables": variables}
    return await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": [path]})},
        files={"0": file},
        headers=headers or {},
    )


async def reader(settings):
    household = await make_household(TODAY, "100001")
    login, token = await logged_in(settings, household.customer, email="erika@example.org")
    variables = {"input": {"meterNumber": household.main.number, "value": "1010.5", "photo": None}}
    return household, login, token, variables


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_photo_is_stored_with_the_reading_without_gps(clock, client, settings):
    household, _, token, variables = await reader(settings)

    response = await upload(
        client, variables, ("zaehler.jpg", jpeg_with_gps(), "image/jpeg"), headers=bearer(token)
    )

    body = response.json()
    assert body["data"]["submitReading"]["errors"] == []
    photo = await MeterPhoto.get()
    reading = await MeterReading.get(id=photo.reading_id)
    assert reading.meter_id == household.main.id
    stored = await read(open_store(settings), photo.storage_key)
    assert stored is not None
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert not image.getexif().get_ifd(GPS_IFD)


async def test_a_text_file_named_jpg_is_refused_and_nothing_is_stored(clock, client, settings):
    _, _, token, variables = await reader(settings)

    response = await upload(
        client, variables, ("zaehler.jpg", b"1010,5 m3\n" * 50, "image/jpeg"), headers=bearer(token)
    )

    [error] = response.json()["data"]["submitReading"]["errors"]
    assert (error["code"], error["field"]) == ("PHOTO_NOT_AN_IMAGE", ["input", "photo"])
    assert await MeterReading.filter(source="customer").count() == 0
    assert await MeterPhoto.all().count() == 0


async def test_a_photo_over_the_size_limit_is_refused_as_data(clock, client, settings):
    settings.photo_max_bytes = 20_000
    _, _, token, variables = await reader(settings)
    big = jpeg_with_gps(size=(1200, 900)) + b"\0" * 30_000

    response = await upload(
        client, variables, ("zaehler.jpg", big, "image/jpeg"), headers=bearer(token)
    )

    [error] = response.json()["data"]["submitReading"]["errors"]
    assert error["code"] == "PHOTO_TOO_LARGE"
    assert "0.02 MB" in error["message"]
    assert await MeterReading.filter(source="customer").count() == 0


async def test_a_20_mb_upload_is_refused_before_it_is_read(clock, client, settings):
    _, _, token, variables = await reader(settings)
    huge = b"\xff\xd8" + b"\0" * 20_000_000

    response = await upload(
        client, variables, ("zaehler.jpg", huge, "image/jpeg"), headers=bearer(token)
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert await MeterReading.filter(source="customer").count() == 0


async def test_multipart_without_csrf_proof_is_refused(clock, client, settings):
    _, login, _, variables = await reader(settings)
    logged = await client.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"email": login.email, "password": PASSWORD}},
    )
    csrf = logged.json()["data"]["login"]["csrfToken"]
    photo = ("zaehler.jpg", jpeg_with_gps(), "image/jpeg")

    refused = await upload(client, variables, photo)  # the cookie alone, as a foreign page sends
    taken = await upload(client, variables, photo, headers={"X-CSRF-Token": csrf})

    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "CSRF_TOKEN_INVALID"
    assert taken.json()["data"]["submitReading"]["errors"] == []
    assert await MeterPhoto.all().count() == 1


async def test_a_map_that_points_outside_the_variables_is_a_bad_request(clock, client, settings):
    _, _, token, variables = await reader(settings)

    response = await upload(
        client,
        variables,
        ("zaehler.jpg", jpeg_with_gps(), "image/jpeg"),
        path="query",
        headers=bearer(token),
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_operation_limits_hold_for_multipart_requests(clock, client, settings):
    _, _, token, variables = await reader(settings)
    aliases = " ".join(f"a{i}: __typename" for i in range(20))
    query = SUBMIT.replace("reading { value }", f"reading {{ value }} {aliases}")

    response = await upload(
        client,
        variables,
        ("zaehler.jpg", jpeg_with_gps(), "image/jpeg"),
        headers=bearer(token),
        query=query,
    )

    assert "data" not in response.json() or response.json()["data"] is None
    assert await MeterReading.filter(source="customer").count() == 0


async def test_photos_are_listed_in_the_data_export_and_go_with_the_profile(
    clock, client, settings
):
    _, _, token, variables = await reader(settings)
    await upload(
        client, variables, ("zaehler.jpg", jpeg_with_gps(), "image/jpeg"), headers=bearer(token)
    )
    photo = await MeterPhoto.get()

    export = await client.post("/graphql", json={"query": EXPORT}, headers=bearer(token))
    deleted = await client.post(
        "/graphql",
        json={"query": DELETE, "variables": {"current": PASSWORD}},
        headers=bearer(token),
    )

    listed = json.dumps(export.json()["data"]["myDataExport"])
    assert photo.sha256 in listed
    assert deleted.json()["data"]["deleteProfile"]["errors"] == []
    assert await MeterPhoto.all().count() == 0
    assert await read(open_store(settings), photo.storage_key) is None
