# ci-warm: build and install on a host without Nix.
#
#   make                      swift build -c release (Swift 6.2 or newer), naming the commit for
#                             --version (CCCI_COMMIT, from packaging/commit unless already set)
#   make install              commands, porcelain, helpers, systemd units, tmpfiles, examples, man
#                             (the commands: one stripped multicall executable, bin/ci-warm, and
#                             one symlink to it per command; STRIP= keeps its symbols)
#   make install PREFIX=/opt/ci-warm DESTDIR=/tmp/stage
#
# PREFIX (default /usr/local) is where the files will live and what the units name; DESTDIR
# stages them elsewhere (packaging). Units and tmpfiles go below PREFIX/lib, which systemd
# searches for /usr/local and /usr; for another PREFIX set UNITDIR=/etc/systemd/system and
# TMPFILESDIR=/etc/tmpfiles.d. Nothing is written to SYSCONFDIR: the examples go to
# DOCDIR/examples, for the operator to copy to /etc/ci-warm. Man pages are rendered from
# docs/commands/*.md by lowdown when it is installed (Debian: apt-get install lowdown).
# `make install` builds nothing: run `make` first (as yourself; install as root).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/ci-warm
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/ci-warm
UNITDIR ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SYSCONFDIR ?= /etc
BUILDDIR ?= .build/release
SWIFT ?= swift
LOWDOWN ?= lowdown
INSTALL ?= install
STRIP ?= -s

# The one list of commands lives in Package.swift (packaging/link-commands reads it).
PORCELAIN := $(filter-out bin/ccci-lib.sh,$(wildcard bin/ccci-*))
UNITS := $(basename $(notdir $(wildcard packaging/systemd/*.in)))
LIBEXEC := $(basename $(notdir $(wildcard packaging/libexec/*.in)))
PAGES := $(wildcard docs/commands/*.md)

SUBST = sed -e 's|@bindir@|$(BINDIR)|g' -e 's|@libexecdir@|$(LIBEXECDIR)|g' -e 's|@sysconfdir@|$(SYSCONFDIR)|g'

.PHONY: all build install install-check install-units install-man
all: build

build:
	CCCI_COMMIT="$${CCCI_COMMIT:-$$(packaging/commit)}" $(SWIFT) build -c release
	packaging/link-commands "$(BUILDDIR)"

install: install-check install-units install-man
	$(INSTALL) -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(LIBEXECDIR)" "$(DESTDIR)$(DOCDIR)/examples" "$(DESTDIR)$(TMPFILESDIR)"
	$(INSTALL) -m 0755 $(STRIP) "$(BUILDDIR)/ci-warm" "$(DESTDIR)$(BINDIR)/ci-warm"
	packaging/link-commands "$(DESTDIR)$(BINDIR)"
	for p in $(PORCELAIN); do $(INSTALL) -m 0755 "$$p" "$(DESTDIR)$(BINDIR)/"; done
	$(INSTALL) -m 0644 bin/ccci-lib.sh "$(DESTDIR)$(BINDIR)/ccci-lib.sh"
	for l in $(LIBEXEC); do \
		$(SUBST) "packaging/libexec/$$l.in" >"$(DESTDIR)$(LIBEXECDIR)/$$l" && chmod 0755 "$(DESTDIR)$(LIBEXECDIR)/$$l"; \
	done
	$(INSTALL) -m 0644 packaging/tmpfiles.conf "$(DESTDIR)$(TMPFILESDIR)/ci-warm.conf"
	$(INSTALL) -m 0644 packaging/examples/* "$(DESTDIR)$(DOCDIR)/examples/"
	$(INSTALL) -m 0644 LICENSE README.md NEWS.md docs/*.md "$(DESTDIR)$(DOCDIR)/"

install-check:
	@[ -x "$(BUILDDIR)/ci-warm" ] || { echo "make install: $(BUILDDIR)/ci-warm is missing: run make first" >&2; exit 66; }

# Each unit: @...@ substituted, @HARDENING@, @VOLUME_ACCESS@ and @NO_VOLUME_ACCESS@ replaced by
# the shared blocks.
install-units:
	$(INSTALL) -d "$(DESTDIR)$(UNITDIR)"
	for u in $(UNITS); do \
		$(SUBST) -e '/^@HARDENING@$$/{r packaging/systemd/hardening.conf' -e 'd;}' \
			-e '/^@VOLUME_ACCESS@$$/{r packaging/systemd/volume-access.conf' -e 'd;}' \
			-e '/^@NO_VOLUME_ACCESS@$$/{r packaging/systemd/no-volume-access.conf' -e 'd;}' \
			"packaging/systemd/$$u.in" >"$(DESTDIR)$(UNITDIR)/$$u" && chmod 0644 "$(DESTDIR)$(UNITDIR)/$$u"; \
	done

install-man:
	@if command -v $(LOWDOWN) >/dev/null 2>&1; then \
		$(INSTALL) -d "$(DESTDIR)$(MANDIR)/man1" && \
		for md in $(PAGES); do \
			n=$$(basename "$$md" .md); \
			$(LOWDOWN) -s -Tman -M "title=$$n" -M section=1 "$$md" >"$(DESTDIR)$(MANDIR)/man1/$$n.1" || exit 1; \
			echo "man: $(MANDIR)/man1/$$n.1"; \
		done; \
	else \
		echo "make install: $(LOWDOWN) not found: man pages skipped (Debian: apt-get install lowdown)" >&2; \
	fi
