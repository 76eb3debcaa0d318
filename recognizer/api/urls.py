from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from . import views

urlpatterns = [
    path("predict", views.PredictView.as_view(), name="api-predict"),
    path("preview", views.PreviewView.as_view(), name="api-preview"),
    path("predictions", views.PredictionListView.as_view(), name="api-predictions"),
    path("predictions/<uuid:prediction_id>", views.PredictionDetailView.as_view(), name="api-prediction"),
    path("predictions/<uuid:prediction_id>/image", views.PredictionImageView.as_view(), name="api-prediction-image"),
    path("predictions/<uuid:prediction_id>/input.png", views.PredictionInputView.as_view(),
         name="api-prediction-input"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
