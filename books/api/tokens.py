"""Readers' API tokens over HTTP: one per reader, made with a password or a signed-in session, revoked at will."""
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from books.api.serializers import TokenCreateInputSerializer, TokenSerializer
from books.services import reader_token_create, reader_token_revoke
from config.api_errors import error_responses
from config.api_views import ApiView, validated
from config.throttling import ScopedRateThrottle


class MyTokenApi(ApiView):
    """Your API token, for clients: send it as ``Authorization: Token <token>``. One per reader."""

    throttle_classes = [*ApiView.throttle_classes, ScopedRateThrottle]  # and a tighter limit on password tries
    throttle_scope = "tokens"

    @extend_schema(
        tags=["tokens"],
        request=TokenCreateInputSerializer,
        responses={201: TokenSerializer, **error_responses(400)},
        auth=[{"tokenAuth": []}, {"cookieAuth": []}, {}],
    )
    def post(self, request):
        """Create a new token, revoking the previous one.

        Signed in (session or token), no body is needed; otherwise send ``username`` and ``password``.
        """
        user = request.user if request.user.is_authenticated else _user_from_credentials(request)
        token = reader_token_create(user=user)
        return Response(TokenSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=["tokens"], responses={204: None, **error_responses(401)})
    def delete(self, request):
        """Revoke your token; clients using it are signed out."""
        reader_token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]


def _user_from_credentials(request):
    credentials = validated(TokenCreateInputSerializer, request.data)
    if not credentials.get("username") or not credentials.get("password"):
        raise ValidationError({"detail": "Sign in, or send your username and password."})
    user = authenticate(request, username=credentials["username"], password=credentials["password"])
    if user is None:
        raise ValidationError({"detail": "Unable to sign in with that username and password."})
    return user
