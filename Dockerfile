# The hakobu controller: `hakobu install` runs it as `hakobu controller …`.
#
# Two stages: the first builds hakobu's wheel and installs it with its dependencies into a
# virtual environment; the second copies only that environment onto a clean slim image, so
# no compiler, pip cache or source tree ships. git itself is not needed: pygit2's wheels
# bundle libgit2.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/hakobu \
    && /opt/hakobu/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/hakobu/bin/pip install /wheels/*.whl

FROM ${PYTHON_IMAGE}
# The user the Deployment's securityContext names (runAsNonRoot needs a numeric one).
ARG UID=65532
RUN groupadd --gid ${UID} hakobu \
    && useradd --uid ${UID} --gid ${UID} --home-dir /var/lib/hakobu --no-create-home \
       --shell /usr/sbin/nologin hakobu \
    && install -d -o ${UID} -g ${UID} /var/lib/hakobu
COPY --from=build /opt/hakobu /opt/hakobu
# Clones and caches go to the writable volume the Deployment mounts here; the root file
# system is read-only.
ENV PATH=/opt/hakobu/bin:$PATH \
    HOME=/var/lib/hakobu \
    XDG_STATE_HOME=/var/lib/hakobu \
    XDG_CACHE_HOME=/var/lib/hakobu/cache \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER ${UID}:${UID}
WORKDIR /var/lib/hakobu
EXPOSE 8080
ENTRYPOINT ["hakobu"]
CMD ["controller"]
