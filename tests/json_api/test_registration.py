"""Sign-up by e-mail, answers that do not tell a taken name from a free one, and rounds that take
endorsements from verified residents only (issue 13, registration).

Equal cost is checked by counting, not timing: every sign-up hashes the password once, every refused
sign-in checks one hash made by the same method, whether the account exists, is pending or not
(`scripts/signin_timing.py` measures the times with the service's own hash costs).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from apihelp import advance_to, mails, make_round, register, round_body, sign_up_link

pytestmark = pytest.mark.db

C = "/api/v1/cities/alpha"


def sign_up(api, username, email, password="correct horse"):
    return api.post(f"{C}/residents", json={"username": username, "password": password, "email": email})


def login(api, username, password="correct horse"):
    return api.post(f"{C}/residents/login", json={"username": username, "password": password})


def test_sign_up_answers_a_free_and_a_taken_name_alike_and_the_mail_tells_which(app, api, cities):
    free = sign_up(api, "ada", "ada@example.org")
    taken = sign_up(api, "ada", "eve@example.org", password="another password")
    assert free.status_code == taken.status_code == 202
    assert free.get_json() == taken.get_json() and free.get_json()["status"] == "check_email"
    to_ada, to_eve = [m for m in mails(app) if m.to == "ada@example.org"], [m for m in mails(app) if m.to == "eve@example.org"]
    assert len(to_ada) == len(to_eve) == 1
    assert "/alpha/signup/" in to_ada[0].body and "48 hours" in to_ada[0].body
    assert "is taken" in to_eve[0].body and "/signup/" not in to_eve[0].body.split("another user name:")[0]
    assert "correct horse" not in to_ada[0].body + to_eve[0].body

    # Pending: the account signs in no more than an unknown name or a wrong password does, with one answer.
    pending, unknown, wrong = login(api, "ada"), login(api, "nobody"), login(api, "ada", "wrong password")
    assert pending.status_code == unknown.status_code == wrong.status_code == 401
    assert pending.get_json() == unknown.get_json() == wrong.get_json()

    token = sign_up_link(app, "ada@example.org")
    done = api.post(f"{C}/residents/confirm", json={"token": token})
    assert done.status_code == 200 and done.get_json()["resident"]["username"] == "ada"
    assert done.get_json()["token"].startswith("pbr_")
    assert api.post(f"{C}/residents/confirm", json={"token": token}).status_code == 404  # used up
    assert api.post(f"/api/v1/cities/beta/residents/confirm", json={"token": token}).status_code == 404
    assert login(api, "ada").status_code == 200
    assert login(api, "ada", "another password").status_code == 401  # the taken name's sign-up changed nothing


def test_a_sign_up_never_finished_frees_its_name_after_the_link_expires(app, api, cities, monkeypatch):
    import api.resources._scope as scope

    sign_up(api, "ada", "squatter@example.org")
    old = sign_up_link(app, "squatter@example.org")
    later = scope.now() + timedelta(hours=49)
    monkeypatch.setattr(scope, "now", lambda: later)
    assert sign_up(api, "ada", "ada@example.org").status_code == 202
    assert sign_up_link(app, "ada@example.org")  # a link this time, not "taken"
    assert api.post(f"{C}/residents/confirm", json={"token": old}).status_code == 404
    assert api.post(f"{C}/residents/confirm", json={"token": sign_up_link(app, "ada@example.org")}).status_code == 200


def test_each_refusal_costs_one_hash_of_the_same_method(app, api, cities, monkeypatch):
    """A wrong password, an unknown name and a pending account each check one password hash, of the method
    real hashes have; a free and a taken sign-up each make one. (Counted: times would flake.)"""
    import pb_engine.residents as residents

    made, checked = [], []
    real_make, real_check = residents.generate_password_hash, residents.check_password_hash
    monkeypatch.setattr(residents, "generate_password_hash", lambda pw, method: made.append(method) or real_make(pw, method=method))
    monkeypatch.setattr(residents, "check_password_hash", lambda h, pw: checked.append(h.split("$")[0]) or real_check(h, pw))
    register(api, username="ada")
    sign_up(api, "bob", "bob@example.org")  # stays pending
    made.clear()
    sign_up(api, "cyd", "cyd@example.org")
    sign_up(api, "ada", "eve@example.org")
    assert len(made) == 2 and made[0] == made[1]
    for name, password in (("ada", "wrong password"), ("nobody", "correct horse"), ("bob", "correct horse")):
        checked.clear()
        assert login(api, name, password).status_code == 401
        assert checked == [residents.PASSWORD_METHOD], (name, checked)


def test_staff_sign_in_checks_one_hash_of_the_same_cost_for_known_and_unknown_names(app, cities):
    from argon2 import extract_parameters

    import pb_engine.staff as staff_mod
    from pb_engine.errors import Unauthorized
    from pb_engine.store.lookup import city_by_slug

    verified = []
    hasher = staff_mod._hasher
    real = hasher.verify

    class Counting:  # the module's hasher, counting what it verifies
        def __getattr__(self, name):
            return getattr(hasher, name)

        def verify(self, hash_, password):
            verified.append(extract_parameters(hash_))
            return real(hash_, password)

    with app.extensions["pb_db"].session() as s:
        c = city_by_slug(s, "alpha")
        st, _ = staff_mod.create_staff(s, c, name="Ann", role="manager", actor="test")
        staff_mod.set_password(s, st, "a long staff password", actor="test")
        staff_mod._hasher = Counting()
        try:
            for name in ("Ann", "Nobody"):
                with pytest.raises(Unauthorized) as refused:
                    staff_mod.authenticate(s, c, name, "not the password")
                assert str(refused.value) == "wrong name or password"
        finally:
            staff_mod._hasher = hasher
    assert len(verified) == 2 and verified[0] == verified[1]  # same time, memory and parallelism costs


def test_a_round_can_take_endorsements_from_verified_residents_only(app, api, cities):
    body = round_body(threshold=2)
    body["endorsement"] = {"require": "verified"}
    r = api.post(f"{C}/rounds", json=body, token=cities["alpha_admin"])
    assert r.status_code == 201 and r.get_json()["endorsement"] == {"require": "verified"}
    advance_to(api, cities, "submission")
    ada, bob = register(api, username="ada"), register(api, username="bob")
    base = f"{C}/rounds/2026"
    pid = api.post(f"{base}/proposals", json={"title": "Shade", "district": "north", "estimated_cost": 100},
                   token=ada).get_json()["id"]
    refused = api.post(f"{base}/proposals/{pid}/endorsements", token=bob)
    assert refused.status_code == 403 and "endorsement" in refused.get_json()["errors"]
    assert api.get(f"{base}/proposals/{pid}").get_json()["endorsements"] == 0  # nothing written
    assert api.patch(f"{C}/residents/bob", json={"verified": True, "district": "north"},
                     token=cities["alpha_reviewer"]).status_code == 200
    assert api.post(f"{base}/proposals/{pid}/endorsements", token=bob).status_code == 201
    # the setting reads back, changes by PATCH, and a bad value is refused naming the key
    assert api.patch(base, json={"endorsement": {"require": "account"}}, token=cities["alpha_admin"]).status_code == 200
    assert api.post(f"{base}/proposals/{pid}/endorsements", token=ada).status_code == 201
    bad = api.patch(base, json={"endorsement": {"require": "friends"}}, token=cities["alpha_admin"])
    assert bad.status_code == 422 and any("endorsement.require" in k for k in bad.get_json()["errors"]), bad.get_json()


def test_the_city_config_states_who_may_endorse(tmp_path):
    from apihelp import city_config
    from pb_engine.config import parse_city_config
    from pb_engine.errors import ConfigError

    data = city_config("alpha")
    rnd = round_body()
    rnd["endorsement"] = {"require": "verified"}
    data["rounds"] = [rnd]
    assert parse_city_config(data, file="alpha.toml").rounds[0].endorsement_requires == "verified"
    rnd["endorsement"] = {"require": "everyone", "extra": 1}
    with pytest.raises(ConfigError) as refused:
        parse_city_config(data, file="alpha.toml")
    text = str(refused.value)
    assert "endorsement.require" in text and "account, verified" in text and "endorsement.extra" in text


def test_verification_codes_issued_by_staff_verify_the_resident_who_types_one(app, api, cities):
    from pb_engine import access_codes

    body = round_body(threshold=5)
    body["endorsement"] = {"require": "verified"}
    assert api.post(f"{C}/rounds", json=body, token=cities["alpha_admin"]).status_code == 201
    advance_to(api, cities, "submission")
    issued = api.post(f"{C}/resident-codes", json={"count": 3, "district": "north"}, token=cities["alpha_reviewer"])
    assert issued.status_code == 201 and len(issued.get_json()["codes"]) == 3
    codes = issued.get_json()["codes"]
    assert api.post(f"{C}/resident-codes", json={"count": 3}, token=cities["beta_admin"]).status_code == 403
    assert api.post(f"{C}/resident-codes", json={"count": 0}, token=cities["alpha_admin"]).status_code == 422
    bad = api.post(f"{C}/resident-codes", json={"count": 1, "district": "nowhere"}, token=cities["alpha_admin"])
    assert bad.status_code == 422 and "district" in bad.get_json()["errors"]
    ada = register(api, username="ada")
    pid = api.post(f"{C}/rounds/2026/proposals", json={"title": "Shade", "district": "north", "estimated_cost": 100},
                   token=ada).get_json()["id"]
    endorse = f"{C}/rounds/2026/proposals/{pid}/endorsements"
    assert api.post(endorse, token=ada).status_code == 403
    typo = codes[0][:-1] + ("2" if codes[0][-1] != "2" else "3")
    bad = api.post(f"{C}/residents/verify", json={"code": typo}, token=ada)
    assert bad.status_code == 422 and "code" in bad.get_json()["errors"]
    body_ = "".join(access_codes.ALPHABET[0] for _ in range(access_codes.RANDOM_CHARS))
    unknown = api.post(f"{C}/residents/verify", json={"code": body_ + access_codes.check_char(body_)}, token=ada)
    assert unknown.status_code == 401
    done = api.post(f"{C}/residents/verify", json={"code": codes[0].lower()}, token=ada)
    assert done.status_code == 200 and done.get_json()["verified"] and done.get_json()["district"] == "north"
    assert api.post(endorse, token=ada).status_code == 201
    bob = register(api, username="bob")
    assert api.post(f"{C}/residents/verify", json={"code": codes[0]}, token=bob).status_code == 409  # one use
    assert api.post(f"/api/v1/cities/beta/residents/verify", json={"code": codes[1]},
                    token=register(api, city="beta", username="bert")).status_code == 401  # alpha's code
    audit = api.get(f"{C}/audit?action=resident_codes.issue", token=cities["alpha_admin"]).get_json()["events"]
    assert audit and not any(c.replace("-", "") in str(audit).replace("-", "") for c in codes)
