//! Active liveness: a short sequence of frames must show one face, the same face throughout,
//! performing the challenge's movements in the challenge's order, with plausible timing.
//! The server issues the challenge (random order, expiry) and checks freshness; this module
//! judges the frames.
//!
//! Identity: every frame's face within the same-person distance of the first frame's (a
//! little more for turned frames). Signals, from the five landmarks: head turn = the nose's offset along the eye line
//! ([`crate::Landmarks::yaw`]) against the first frame; blink = eye openness
//! ([`crate::occlusion::eye_openness`]) falling well below the sequence's open-eye level on a
//! frame facing the camera. Frames are taken as the camera records them (not mirrored):
//! "turn left" is the person's left, the nose moving to the image's right.

use crate::{counted_faces, Descriptor, Face, Thresholds};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    TurnLeft,
    TurnRight,
    Blink,
}

impl Action {
    pub const ALL: [Action; 3] = [Action::TurnLeft, Action::TurnRight, Action::Blink];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::TurnLeft => "turn_left",
            Action::TurnRight => "turn_right",
            Action::Blink => "blink",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// The limits a sequence is judged by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rules {
    pub min_frames: usize,
    pub max_frames: usize,
    /// Longest pause between two frames.
    pub max_gap_ms: i64,
    /// Shortest whole sequence: people do not turn twice and blink in a blink.
    pub min_span_ms: i64,
    /// Longest whole sequence.
    pub max_span_ms: i64,
    /// A head turn moves the nose at least this far (eye distances) from where it started.
    pub turn_yaw: f32,
    /// A blink: eye openness at most this share of the open-eye level.
    pub blink_ratio: f32,
    /// A turned head's descriptor drifts from the frontal one (dlib's network is trained
    /// mostly on frontal faces): frames turned at least half a turn may be this much farther
    /// from the first frame than the same-person distance.
    pub turned_face_slack: f32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            min_frames: 4,
            max_frames: 40,
            max_gap_ms: 1500,
            min_span_ms: 600,
            max_span_ms: 20_000,
            turn_yaw: 0.12,
            blink_ratio: 0.7,
            turned_face_slack: 0.12,
        }
    }
}

/// One frame: when the client took it (ms, any origin, increasing) and its faces.
#[derive(Clone, Debug)]
pub struct Frame {
    pub at_ms: i64,
    pub faces: Vec<Face>,
}

/// Why a sequence failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// Too few or too many frames, timestamps out of order, pauses or spans out of range.
    Timing(String),
    /// A frame without exactly one face.
    FaceCount { frame: usize, faces: usize },
    /// A frame whose face is not the first frame's.
    FaceChanged { frame: usize, distance: f32 },
    /// A requested movement was not seen (in its turn).
    ActionMissing(Action),
    /// The frames show a screen's pixel grid (judged by the caller, which has the pixels).
    Screen { grid_peak: f32 },
    /// A frame's face is not the document holder's.
    NotTheHolder { frame: usize, distance: f32 },
}

impl Failure {
    pub fn message(&self) -> String {
        match self {
            Failure::Timing(why) => format!("frame timing: {why}"),
            Failure::FaceCount { frame, faces } => {
                format!("frame {frame} shows {faces} faces; every frame must show one")
            }
            Failure::FaceChanged { frame, distance } => {
                format!("frame {frame} shows a different face (distance {distance:.2})")
            }
            Failure::ActionMissing(a) => format!("the movement {:?} was not seen", a.as_str()),
            Failure::NotTheHolder { frame, distance } => {
                format!("frame {frame} does not show the document holder (distance {distance:.2})")
            }
            Failure::Screen { grid_peak } => {
                format!("the frames show a screen's pixel grid (peak {grid_peak:.0})")
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Judgement {
    pub failure: Option<Failure>,
    /// For each requested action, the frame where it was seen.
    pub seen: Vec<(Action, Option<usize>)>,
    /// Yaw relative to the first frame and eye openness, per frame (for review).
    pub yaw: Vec<f32>,
    pub openness: Vec<f32>,
    /// The mean descriptor over the frames: the live face to match with the document.
    pub descriptor: Option<Descriptor>,
    /// The frame facing the camera most squarely, eyes open: kept as the selfie.
    pub best_frame: Option<usize>,
}

impl Judgement {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

pub fn judge(frames: &[Frame], actions: &[Action], rules: &Rules, t: &Thresholds) -> Judgement {
    let mut j = Judgement {
        failure: None,
        seen: actions.iter().map(|a| (*a, None)).collect(),
        yaw: Vec::new(),
        openness: Vec::new(),
        descriptor: None,
        best_frame: None,
    };
    if let Some(why) = timing(frames, rules) {
        j.failure = Some(Failure::Timing(why));
        return j;
    }
    for (i, f) in frames.iter().enumerate() {
        let n = counted_faces(&f.faces, t);
        if n != 1 {
            j.failure = Some(Failure::FaceCount { frame: i, faces: n });
            return j;
        }
    }
    // Faces are sorted largest first: the counted face is the first.
    let faces: Vec<&Face> = frames.iter().map(|f| &f.faces[0]).collect();
    let base = faces[0].landmarks.yaw();
    for (i, f) in faces.iter().enumerate().skip(1) {
        let d = f.descriptor.distance(&faces[0].descriptor);
        let turned = (f.landmarks.yaw() - base).abs() >= rules.turn_yaw / 2.0;
        let allowed = t.same_person_distance + if turned { rules.turned_face_slack } else { 0.0 };
        if d > allowed {
            j.failure = Some(Failure::FaceChanged {
                frame: i,
                distance: d,
            });
            return j;
        }
    }
    j.yaw = faces.iter().map(|f| f.landmarks.yaw() - base).collect();
    j.openness = faces.iter().map(|f| f.eye_openness).collect();
    let frontal: Vec<usize> = (0..faces.len())
        .filter(|&i| j.yaw[i].abs() < rules.turn_yaw / 2.0)
        .collect();
    // The open-eye level: the upper quartile of the frontal frames' openness.
    let mut open: Vec<f32> = frontal.iter().map(|&i| j.openness[i]).collect();
    open.sort_by(f32::total_cmp);
    let open_level = open.get(open.len() * 3 / 4).copied().unwrap_or(0.0);

    let mut from = 0;
    for (action, at) in j.seen.iter_mut() {
        let hit = (from..faces.len()).find(|&i| match action {
            Action::TurnLeft => j.yaw[i] >= rules.turn_yaw,
            Action::TurnRight => j.yaw[i] <= -rules.turn_yaw,
            Action::Blink => {
                frontal.contains(&i) && j.openness[i] <= rules.blink_ratio * open_level
            }
        });
        match hit {
            Some(i) => {
                *at = Some(i);
                from = i + 1;
            }
            None => {
                j.failure = Some(Failure::ActionMissing(*action));
                break;
            }
        }
    }
    let all: Vec<&Descriptor> = faces.iter().map(|f| &f.descriptor).collect();
    j.descriptor = Descriptor::mean(&all);
    j.best_frame = frontal
        .iter()
        .copied()
        .max_by(|&a, &b| j.openness[a].total_cmp(&j.openness[b]));
    j
}

/// Every frame's face against the document portrait's descriptor, with the same slack for
/// turned frames as within the sequence. Run on a sequence [`judge`] passed.
pub fn against_holder(
    frames: &[Frame],
    j: &Judgement,
    holder: &Descriptor,
    rules: &Rules,
    t: &Thresholds,
) -> Option<Failure> {
    frames.iter().enumerate().find_map(|(i, f)| {
        let face = f.faces.first()?;
        let turned = j
            .yaw
            .get(i)
            .is_some_and(|y| y.abs() >= rules.turn_yaw / 2.0);
        let allowed = t.same_person_distance + if turned { rules.turned_face_slack } else { 0.0 };
        let distance = face.descriptor.distance(holder);
        (distance > allowed).then_some(Failure::NotTheHolder { frame: i, distance })
    })
}

fn timing(frames: &[Frame], r: &Rules) -> Option<String> {
    if frames.len() < r.min_frames || frames.len() > r.max_frames {
        return Some(format!(
            "{} frames; between {} and {} are expected",
            frames.len(),
            r.min_frames,
            r.max_frames
        ));
    }
    for w in frames.windows(2) {
        let gap = w[1].at_ms - w[0].at_ms;
        if gap <= 0 {
            return Some("timestamps must increase".into());
        }
        if gap > r.max_gap_ms {
            return Some(format!(
                "a {gap} ms pause between frames; at most {} ms",
                r.max_gap_ms
            ));
        }
    }
    let span = frames[frames.len() - 1].at_ms - frames[0].at_ms;
    if span < r.min_span_ms || span > r.max_span_ms {
        return Some(format!(
            "the sequence lasts {span} ms; between {} and {} ms are expected",
            r.min_span_ms, r.max_span_ms
        ));
    }
    None
}
