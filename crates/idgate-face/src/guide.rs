//! Guidance while a person records a liveness answer: what one frame shows, measured as the
//! judge measures it (counted faces, the first face's yaw and eye distance), turned into the
//! one thing to say now — "turn further left", "face the camera", "only one face in view",
//! "more light", "come closer" — or that the movement asked is done. The verdict stays the
//! judge's, on the whole sequence ([`crate::liveness::judge`]); a frame looked at here is
//! judged again with the others.

use crate::liveness::{Action, Frame, Rules};
use crate::{counted_faces, Thresholds};

/// What to tell the person about this frame, most pressing first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advice {
    /// No face found: into the frame, facing the camera.
    NoFace,
    /// More than one face counts.
    OneFaceOnly,
    /// The picture is too dark to see the face's detail.
    MoreLight,
    /// The face, facing the camera, is too small for the blink to be told from paint.
    ComeCloser,
    /// Turned while it should face the camera.
    FaceCamera,
    /// Turning the asked way, not far enough yet (or the other way).
    TurnFurther,
    /// The frame shows what is asked now: facing the camera, or the turn reached. (For a
    /// blink, which one frame cannot show, only that nothing is in the way.)
    Good,
}

impl Advice {
    pub const ALL: [Advice; 7] = [
        Advice::NoFace,
        Advice::OneFaceOnly,
        Advice::MoreLight,
        Advice::ComeCloser,
        Advice::FaceCamera,
        Advice::TurnFurther,
        Advice::Good,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Advice::NoFace => "no_face",
            Advice::OneFaceOnly => "one_face_only",
            Advice::MoreLight => "more_light",
            Advice::ComeCloser => "come_closer",
            Advice::FaceCamera => "face_camera",
            Advice::TurnFurther => "turn_further",
            Advice::Good => "good",
        }
    }
}

/// A frame's measures and the advice they give.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Guidance {
    pub faces: usize,
    /// The first face's yaw (eye distances; positive: turned to the person's left).
    pub yaw: Option<f32>,
    /// The first face's eye distance in the frame's pixels.
    pub eye_distance: Option<f32>,
    /// Mean grey level of the first face's eyes and cheeks (of the frame when no face is
    /// seen), 0–255.
    pub brightness: f32,
    pub advice: Advice,
}

/// Below this mean grey level of the face (or of the frame, when no face is seen) a face's
/// lids and texture are lost in the sensor's noise.
pub const MIN_BRIGHTNESS: f32 = 40.0;

/// The advice for `frame` while the person is asked to do `doing` (`None`: face the camera).
pub fn guide(frame: &Frame, doing: Option<Action>, rules: &Rules, t: &Thresholds) -> Guidance {
    // The face's own light (its eyes and cheeks) where a face is seen: a well-lit face
    // before a dark wall is not too dark. The whole frame otherwise.
    let pixels = match &frame.eyes {
        Some(view) => view.gray.as_raw(),
        None => frame.gray.as_raw(),
    };
    let brightness = if pixels.is_empty() {
        0.0
    } else {
        pixels.iter().map(|&p| f32::from(p)).sum::<f32>() / pixels.len() as f32
    };
    let faces = counted_faces(&frame.faces, t);
    let first = frame.faces.first().map(|f| f.landmarks);
    let yaw = first.map(|lm| lm.yaw());
    let eye_distance = first.map(|lm| lm.frame().eye_distance);
    let advice = match (faces, yaw, eye_distance) {
        (0, _, _) | (_, None, _) | (_, _, None) => {
            if brightness < MIN_BRIGHTNESS {
                Advice::MoreLight
            } else {
                Advice::NoFace
            }
        }
        (n, _, _) if n > 1 => Advice::OneFaceOnly,
        _ if brightness < MIN_BRIGHTNESS => Advice::MoreLight,
        // The blink's lids need the eye distance facing the camera; a turned face's eyes
        // come closer together by the turn itself.
        (_, Some(y), Some(d))
            if d < rules.min_blink_eye_distance && y.abs() < rules.turn_yaw / 2.0 =>
        {
            Advice::ComeCloser
        }
        (_, Some(y), _) => match doing {
            Some(Action::TurnLeft) if y >= rules.turn_yaw => Advice::Good,
            Some(Action::TurnRight) if y <= -rules.turn_yaw => Advice::Good,
            Some(Action::TurnLeft | Action::TurnRight) => Advice::TurnFurther,
            // Facing the camera, or about to blink: turned less than half a turn.
            None | Some(Action::Blink) if y.abs() < rules.turn_yaw / 2.0 => Advice::Good,
            None | Some(Action::Blink) => Advice::FaceCamera,
        },
    };
    Guidance {
        faces,
        yaw,
        eye_distance,
        brightness,
        advice,
    }
}
