"""Errors the platform answers with: a status, a message key and the text in both languages.

A screen shows ``message[language]``; a kiosk that knows the key may use its
own catalogue instead. Nothing here carries personal data (a field id, never
its value).
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "request.not_json": ("请求内容不是有效的 JSON。", "The request body is not valid JSON."),
    "request.too_large": ("提交的内容过大。", "The request body is too large."),
    "request.wrong_type": ("“{field}”的类型不正确。", "“{field}” has the wrong type."),
    "request.unknown_field": ("不认识的字段“{field}”。", "Unknown field “{field}”."),
    "request.missing_field": ("缺少“{field}”。", "“{field}” is missing."),
    "request.not_found": ("没有找到。", "Not found."),
    "request.method": ("不支持此请求方式。", "Method not allowed."),
    "submission.unknown_matter": ("事项“{field}”不在本地事项目录中。", "Matter “{field}” is not in the catalog."),
    "submission.unknown_life_event": ("“一件事”“{field}”不在目录中。", "Life event “{field}” is not in the catalog."),
    "submission.unknown_point": ("受理点“{field}”不在目录中。", "Service point “{field}” is not in the catalog."),
    "submission.unknown_form_field": ("表单项“{field}”不在目录中。", "Form field “{field}” is not in the catalog."),
    "submission.fields_missing": ("还有必填项没有填写。", "Some required fields are empty."),
    "submission.materials_missing": ("还缺少必需的材料。", "Some required materials are missing."),
    "submission.commitment_unsigned": ("容缺受理需要您签名承诺按期补交材料。",
                                       "Deferred materials need your signed promise to bring them."),
    "submission.not_deferrable": ("材料“{field}”不能容缺受理。", "Material “{field}” cannot be deferred."),
    "submission.id_number_invalid": ("身份证号码校验不通过，请核对。", "The ID number fails its check; please check it."),
    "submission.address_missing": ("选择邮寄时需要填写收件地址。", "Mail delivery needs an address."),
    "submission.key_reused": ("同一提交编号对应了不同的内容。", "This submission key was already used for different content."),
    "auth.terminal_mismatch": ("提交中的终端号与签名终端不一致。", "The submission names another terminal."),
    "application.not_found": ("没有找到该办件。", "No application with this number."),
    "application.wrong_state": ("该办件当前状态不能执行此操作。", "The application's state does not allow this."),
    "auth.unsigned": ("请求没有终端签名。", "The request is not signed by a terminal."),
    "auth.stale": ("请求时间与服务器相差过大，请校准终端时钟。", "The request time is too far from the server's; check the terminal clock."),
    "auth.replayed": ("重复的请求已被拒绝。", "A replayed request was refused."),
    "auth.bad_signature": ("终端签名不正确。", "The terminal signature is wrong."),
    "auth.unknown_terminal": ("该终端未登记。", "This terminal is not enrolled."),
    "auth.revoked": ("该终端已被停用。", "This terminal has been revoked."),
    "auth.office": ("需要工作人员凭据。", "Office credentials are required."),
    "enrol.bad_code": ("登记码无效、已使用或已过期。", "The enrolment code is invalid, used or expired."),
    "server.error": ("平台内部错误，请稍后再试。", "The platform failed; please try again later."),
    "server.catalog": ("平台的事项目录暂不可用，您的申请已保存，稍后自动提交。", "The platform's catalog is unavailable just now; your application is kept and sent later."),
    "application.matters_gone": ("该办件的事项都已不在事项目录中，不能受理，请作不予受理处理。", "None of this application's matters is in the catalog now: refuse it instead."),
    "server.database": ("平台暂时无法读写数据，请稍后再试。", "The platform cannot reach its data just now; please try again shortly."),
    # citizen services (central/citizen_api.py)
    "ticket.unknown_kind": ("没有这种取号业务“{field}”。", "There is no queue “{field}”."),
    "ticket.other_point": ("本机只能为本服务点取号。", "This terminal issues tickets for its own service point only."),
    "ticket.closed": ("窗口现在不办公，不能取号。", "The windows are closed now: no tickets until they open."),
    "record.too_many": ("本机查询过于频繁，请稍后再试或到窗口办理。", "This terminal has asked too often; please try again later or go to a window."),
    "record.card_not_present": ("请把身份证放在读卡区后再查询打印。", "Place the ID card on the reader to print this record."),
    "face.no_record": ("平台没有此人的留存照片，请到窗口办理。", "The platform holds no photo of record for this person; please go to a window."),
    "face.none": ("照片中没有找到人脸，请正对摄像头。", "No face was found; please face the camera."),
    "face.several": ("照片中有多张人脸，请一个人站在摄像头前。", "More than one face; only one person in front of the camera, please."),
    "face.image_unreadable": ("照片无法读取，请重新拍摄。", "The photo cannot be read; please take it again."),
    "face.unusable": ("照片不能用于比对，请重新拍摄。", "The photo cannot be compared; please take it again."),
    "face.model_unavailable": ("人证比对暂不可用，请到窗口办理。", "Face comparison is unavailable; please go to a window."),
    # electronic ID codes (central/eid.py)
    "eid.invalid": ("无法识别该电子身份证二维码，请在手机上刷新后重新出示。", "This electronic ID code is not recognised; refresh it on your phone and show it again."),
    "eid.expired": ("电子身份证二维码已过期，请在手机上刷新后重新出示。", "This electronic ID code has expired; refresh it on your phone and show it again."),
    "eid.used": ("该二维码已使用过，请在手机上刷新后重新出示。", "This code has already been used; refresh it on your phone and show it again."),
    "eid.unavailable": ("电子身份证核验暂不可用，请使用身份证或到窗口办理。", "Electronic ID checks are unavailable; please use your ID card or go to a window."),
}  # fmt: skip


class ApiError(Exception):
    """A precise 4xx (or 5xx) answer: ``status``, ``key`` into MESSAGES, ``field`` that is wrong."""

    def __init__(self, status: int, key: str, field: str = "", details: list[str] | None = None):
        super().__init__(f"{status} {key} {field}".strip())
        self.status = status
        self.key = key
        self.field = field
        self.details = list(details or [])

    def body(self) -> dict[str, Any]:
        zh, en = MESSAGES.get(self.key, MESSAGES["server.error"])
        return {
            "error": {
                "key": self.key,
                "message": {"zh": zh.format(field=self.field), "en": en.format(field=self.field)},
                "field": self.field,
                "details": self.details,
            }
        }
