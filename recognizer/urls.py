from django.urls import include, path

from .pages import history, legacy, models, review, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("draw", views.draw, name="draw"),
    path("upload", views.upload, name="upload"),
    path("predictions/<uuid:prediction_id>", views.prediction_detail, name="prediction_detail"),
    path("api/", include("recognizer.api.urls")),
    path("history", history.history_list, name="history"),
    path("history/export.csv", history.export, {"fmt": "csv"}, name="history_export_csv"),
    path("history/export.jsonl", history.export, {"fmt": "jsonl"}, name="history_export_jsonl"),
    path("history/<uuid:prediction_id>", history.history_detail, name="history_detail"),
    path("history/<uuid:prediction_id>/delete", history.history_delete, name="history_delete"),
    path("stats", history.stats, name="stats"),
    path("models", models.model_versions, name="model_versions"),
    path("review", review.review_page, name="review"),
    path("review/items", review.review_items, name="review_items"),
    path("review/<uuid:prediction_id>/decide", review.review_decide, name="review_decide"),
    # The old Flask app's routes, kept for existing clients.
    path("upload2", views.draw, name="legacy-draw"),
    path("upload3", legacy.upload3, name="legacy-upload3"),
    path("result", legacy.result, name="legacy-result"),
]
